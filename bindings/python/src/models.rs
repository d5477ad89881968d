//! The result objects: one Python class per wire model of the core, plus [`Secret`].
//!
//! A result object is a thin view over the parsed Rust model: the body is parsed (with the GIL
//! released) into the core's typed model once, and attributes are converted to Python only when
//! read. Nested lists (a scan's assets, an asset's vulnerabilities) are views too: each element
//! shares the parsed document through an `Arc` and finds its data through a chain of indices
//! ([`Node`]), so nothing is copied and nothing is materialised until it is used. `to_dict()`
//! builds plain dicts with everything the server sent (unknown fields included) in one pass.
//!
//! Attributes use the contract's names in snake case (`scan_id`, `risk_level`, `open_ports`);
//! the exact wire keys (`riskLevel`, `openPorts`, and unknown fields) are also readable as
//! attributes, and are the keys of `to_dict()`.

use std::sync::Arc;

use cyrisma_core::WebhookSecret;
use cyrisma_core::types::{
    Asset, BaselineScan, BaselineTarget, CountOrList, Cve, Cves, Flaw, OpenPort, ScanDetail, Vulnerability,
    WebhookEventType, WebhookEvents,
};
use cyrisma_core::wire::TextBool;
use pyo3::exceptions::{PyAttributeError, PyIndexError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::convert::to_python;
use crate::errors::Failure;
pub(crate) use crate::secret::{Secret, SecretValue};
pub(crate) use crate::view::{IntoPython, quoted};

impl IntoPython for SecretValue {
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, Secret::from_api_secret(self.0))?.into_any())
    }
}

/// Where a view finds its model: the parsed document, or an element of a parent's list.
pub(crate) trait Node<T>: Send + Sync {
    /// The model.
    fn get(&self) -> &T;
}

/// A model owned by its view (a top-level result). When the last view goes, the bulk of a big
/// model (see [`Wrap::take_bulk`]) is freed on a runtime thread without the GIL, so that freeing
/// millions of strings neither blocks the caller nor serialises threads on the GIL.
pub(crate) struct Owned<T: Wrap>(pub(crate) T);

impl<T: Wrap> Node<T> for Owned<T> {
    fn get(&self) -> &T {
        &self.0
    }
}

impl<T: Wrap> Drop for Owned<T> {
    fn drop(&mut self) {
        if let Some(bulk) = self.0.take_bulk() {
            release(bulk);
        }
    }
}

/// The part of a model that is expensive to free.
pub(crate) type Bulk = Box<dyn Send>;

/// Frees `bulk` on the runtime's blocking pool (in this process), or here if there is none.
fn release(bulk: Bulk) {
    match crate::runtime::runtime() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(bulk))),
        Err(_) => drop(bulk),
    }
}

/// How many assets make a scan detail worth freeing off the calling thread.
const BULK_ASSETS: usize = 256;

/// The `index`th element of a list in a parent model.
struct Element<P: 'static, T: 'static> {
    parent: Arc<dyn Node<P>>,
    index: usize,
    pick: fn(&P) -> &[T],
}

impl<P: 'static, T: 'static> Node<T> for Element<P, T> {
    fn get(&self) -> &T {
        // The index was taken below the length of the same (immutable) list.
        &(self.pick)(self.parent.get())[self.index]
    }
}

/// A model type with a Python view class.
pub(crate) trait Wrap: Sized + Send + Sync + 'static {
    /// Builds a view.
    fn wrap<'py>(py: Python<'py>, node: Arc<dyn Node<Self>>) -> PyResult<Bound<'py, PyAny>>;

    /// Takes out the part of the value that is expensive to free, if it is big enough to be
    /// worth freeing on another thread (see [`Owned`]).
    fn take_bulk(&mut self) -> Option<Bulk> {
        None
    }

    /// Builds a view of an owned value.
    fn wrap_owned(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        Self::wrap(py, Arc::new(Owned(self)))
    }
}

/// The views of the elements of a list in a parent model.
pub(crate) fn children<'py, P: Send + Sync + 'static, C: Wrap>(
    py: Python<'py>,
    parent: &Arc<dyn Node<P>>,
    pick: fn(&P) -> &[C],
) -> PyResult<Bound<'py, PyList>> {
    let len = pick(parent.get()).len();
    let mut items = Vec::with_capacity(len);
    for index in 0..len {
        items.push(C::wrap(py, Arc::new(Element { parent: parent.clone(), index, pick }))?);
    }
    PyList::new(py, items)
}

/// The view of one element of a list in a parent model (negative indices count from the end).
pub(crate) fn child<'py, P: Send + Sync + 'static, C: Wrap>(
    py: Python<'py>,
    parent: &Arc<dyn Node<P>>,
    pick: fn(&P) -> &[C],
    index: isize,
) -> PyResult<Bound<'py, PyAny>> {
    let len = pick(parent.get()).len();
    let resolved = if index < 0 { index.checked_add_unsigned(len) } else { Some(index) };
    match resolved.and_then(|index| usize::try_from(index).ok()).filter(|index| *index < len) {
        Some(index) => C::wrap(py, Arc::new(Element { parent: parent.clone(), index, pick })),
        None => Err(PyIndexError::new_err("index out of range")),
    }
}

/// Parses a model from JSON text or bytes, with the GIL released.
pub(crate) fn parse_model<T>(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<T>
where
    T: cyrisma_core::wire::Lenient + Send,
{
    let text;
    let body: &[u8] = if let Ok(bytes) = data.cast::<PyBytes>() {
        bytes.as_bytes()
    } else if let Ok(string) = data.cast::<PyString>() {
        text = string.to_cow()?;
        text.as_bytes()
    } else {
        return Err(Failure::argument("data", "`data` must be JSON as `bytes` or `str`").into());
    };
    // `bytes` and `str` are immutable, and `data` keeps them alive while the GIL is released.
    py.detach(|| cyrisma_core::wire::from_slice_seed::<T>(body)).map_err(|error| {
        let message = match &error.path {
            Some(path) => format!("the json does not match the model: field `{path}`: {}", error.message),
            None => format!("the json does not match the model: {}", error.message),
        };
        Failure::Decode { message, path: error.path }.into()
    })
}

/// How a model field is read as a Python attribute.
pub(crate) trait Attr {
    /// The attribute's value.
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

impl Attr for String {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
}

impl Attr for &'static str {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
}

macro_rules! number_attr {
    ($($ty:ty),*) => {$(
        impl $crate::models::Attr for $ty {
            fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.into_pyobject(py)?.into_any())
            }
        }
    )*};
}

number_attr!(u16, u32, u64, i64, f64, usize);

impl Attr for bool {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pyo3::types::PyBool::new(py, *self).to_owned().into_any())
    }
}

impl Attr for TextBool {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get().attr(py)
    }
}

impl<T: Attr> Attr for Option<T> {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(value) => value.attr(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

impl<T: Attr> Attr for Vec<T> {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items = self.iter().map(|item| item.attr(py)).collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any())
    }
}

impl Attr for serde_json::Value {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self)
    }
}

impl Attr for CountOrList<String> {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            CountOrList::Count(count) => count.attr(py),
            CountOrList::List(items) => items.attr(py),
        }
    }
}

impl Attr for WebhookEvents {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let names: Vec<&str> = self.as_slice().iter().map(WebhookEventType::as_str).collect();
        Ok(PyList::new(py, names)?.into_any())
    }
}

impl Attr for WebhookSecret {
    fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(Bound::new(py, Secret::new(self.expose_secret()))?.into_any())
    }
}

macro_rules! text_enum_attr {
    ($($ty:ty),*) => {$(
        impl $crate::models::Attr for $ty {
            fn attr<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                Ok(::pyo3::types::PyString::new(py, self.as_str()).into_any())
            }
        }
    )*};
}

macro_rules! numeric_enum_attr {
    ($($ty:ty),*) => {$(
        impl $crate::models::Attr for $ty {
            /// The numeric code as an `int`; a value that is not a number is kept as a `str`.
            fn attr<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                match self.as_str().trim().parse::<u64>() {
                    Ok(code) => Ok(::pyo3::IntoPyObject::into_pyobject(code, py)?.into_any()),
                    Err(_) => Ok(::pyo3::types::PyString::new(py, self.as_str()).into_any()),
                }
            }
        }
    )*};
}

/// Declares the Python view class of a Rust value: attribute getters, list views, `to_dict()`
/// and a `__repr__` of a few identifying fields. With `sequence`, the view is also a read-only
/// sequence of that list (`len()`, iteration, indexing).
/// A view's value as an escaped HTML table (its serialized fields, lists as tables of their own).
pub(crate) fn repr_html<T: serde::Serialize>(title: &str, value: &T) -> PyResult<String> {
    let value =
        serde_json::to_value(value).map_err(|error| PyErr::from(Failure::Partial { message: error.to_string() }))?;
    cyrisma_report_html::table::repr_html(title, &value)
        .map_err(|error| PyErr::from(Failure::Partial { message: error.to_string() }))
}

macro_rules! view_class {
    (
        $(#[$meta:meta])*
        $class:ident = $pyname:literal ($model:ty) {
            repr: [$($repr:ident),* $(,)?],
            fields: { $( $(#[$fmeta:meta])* $field:ident ),* $(,)? },
            lists: { $( $(#[$lmeta:meta])* $list:ident: $child:ty = $pick:expr ),* $(,)? },
            $( sequence: $seq:ident: $seq_child:ty = $seq_pick:expr, )?
            $( bulk: $bulk:expr, )?
        }
    ) => {
        $(#[$meta])*
        #[::pyo3::pyclass(module = "cyrisma._cyrisma", name = $pyname, frozen)]
        pub(crate) struct $class {
            pub(crate) node: ::std::sync::Arc<dyn $crate::models::Node<$model>>,
        }

        impl $class {
            /// The model.
            #[allow(dead_code)]
            pub(crate) fn model(&self) -> &$model {
                self.node.get()
            }
        }

        impl $crate::models::Wrap for $model {
            fn wrap<'py>(
                py: ::pyo3::Python<'py>,
                node: ::std::sync::Arc<dyn $crate::models::Node<Self>>,
            ) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                Ok(::pyo3::Bound::new(py, $class { node })?.into_any())
            }

            $(
                fn take_bulk(&mut self) -> Option<$crate::models::Bulk> {
                    let take: fn(&mut $model) -> Option<$crate::models::Bulk> = $bulk;
                    take(self)
                }
            )?
        }

        impl $crate::models::IntoPython for $model {
            fn into_python(self, py: ::pyo3::Python<'_>) -> ::pyo3::PyResult<::pyo3::Py<::pyo3::PyAny>> {
                Ok($crate::models::Wrap::wrap_owned(self, py)?.unbind())
            }
        }

        impl $crate::models::IntoPython for Vec<$model> {
            fn into_python(self, py: ::pyo3::Python<'_>) -> ::pyo3::PyResult<::pyo3::Py<::pyo3::PyAny>> {
                let items = self
                    .into_iter()
                    .map(|item| $crate::models::Wrap::wrap_owned(item, py))
                    .collect::<::pyo3::PyResult<Vec<_>>>()?;
                Ok(::pyo3::types::PyList::new(py, items)?.into_any().unbind())
            }
        }

        #[::pyo3::pymethods]
        impl $class {
            $(
                $(#[$fmeta])*
                #[getter]
                fn $field<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                    $crate::models::Attr::attr(&self.node.get().$field, py)
                }
            )*

            $(
                $(#[$lmeta])*
                #[getter]
                fn $list<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::types::PyList>> {
                    let pick: fn(&$model) -> &[$child] = $pick;
                    $crate::models::children(py, &self.node, pick)
                }
            )*

            /// Everything as plain dicts and lists (for a wire model: what the server sent, with
            /// the wire keys, unknown fields included).
            fn to_dict<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                $crate::convert::to_python(py, self.node.get())
            }

            /// The object as an HTML table (escaped), for Jupyter.
            fn _repr_html_(&self) -> ::pyo3::PyResult<String> {
                $crate::models::repr_html($pyname, self.node.get())
            }

            fn __repr__(&self, py: ::pyo3::Python<'_>) -> ::pyo3::PyResult<String> {
                #[allow(unused_mut)]
                let mut parts: Vec<String> = Vec::new();
                $(
                    let value = $crate::models::Attr::attr(&self.node.get().$repr, py)?;
                    parts.push(format!("{}={}", stringify!($repr), ::pyo3::types::PyAnyMethods::repr(&value)?));
                )*
                $(
                    let pick: fn(&$model) -> &[$seq_child] = $seq_pick;
                    parts.push(format!("{}=<{} items>", stringify!($seq), pick(self.node.get()).len()));
                )?
                let _ = py;
                Ok(format!("{}({})", $pyname, parts.join(", ")))
            }

            $(
                fn __len__(&self) -> usize {
                    let pick: fn(&$model) -> &[$seq_child] = $seq_pick;
                    pick(self.node.get()).len()
                }

                fn __getitem__<'py>(&self, py: ::pyo3::Python<'py>, index: isize) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                    let pick: fn(&$model) -> &[$seq_child] = $seq_pick;
                    $crate::models::child(py, &self.node, pick, index)
                }

                fn __iter__<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                    let pick: fn(&$model) -> &[$seq_child] = $seq_pick;
                    let list = $crate::models::children(py, &self.node, pick)?;
                    Ok(::pyo3::types::PyAnyMethods::try_iter(list.as_any())?.into_any())
                }

                /// The same list as the sequence itself.
                #[getter]
                fn $seq<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::types::PyList>> {
                    let pick: fn(&$model) -> &[$seq_child] = $seq_pick;
                    $crate::models::children(py, &self.node, pick)
                }
            )?
        }
    };
}

pub(crate) use view_class;

/// Declares the Python view class of a wire model: [`view_class`], plus `to_json()`,
/// `from_json()`, `extra`, and `__getattr__` for wire keys and unknown fields.
macro_rules! model_class {
    (
        $(#[$meta:meta])*
        $class:ident = $pyname:literal ($model:ty) { $($body:tt)* }
    ) => {
        view_class! {
            $(#[$meta])*
            $class = $pyname ($model) { $($body)* }
        }

        #[::pyo3::pymethods]
        impl $class {
            /// The model as JSON text, with the wire keys.
            fn to_json(&self, py: ::pyo3::Python<'_>) -> ::pyo3::PyResult<String> {
                let node = self.node.clone();
                py.detach(move || serde_json::to_string(node.get()))
                    .map_err(|error| ::pyo3::exceptions::PyValueError::new_err(error.to_string()))
            }

            /// Parses JSON (``bytes`` or ``str``) the way the client parses an answer: liberally,
            /// keeping unknown fields, with the GIL released.
            #[staticmethod]
            fn from_json<'py>(py: ::pyo3::Python<'py>, data: &::pyo3::Bound<'py, ::pyo3::PyAny>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                let model: $model = $crate::models::parse_model(py, data)?;
                $crate::models::Wrap::wrap_owned(model, py)
            }

            /// The fields the server sent that this version does not know, by wire key.
            #[getter]
            fn extra<'py>(&self, py: ::pyo3::Python<'py>) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                $crate::convert::to_python(py, &self.node.get().extra)
            }

            fn __getattr__<'py>(&self, py: ::pyo3::Python<'py>, name: &str) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                $crate::models::wire_attribute(py, self.node.get(), $pyname, name)
            }
        }
    };
}

// The view class of every wire model, the enums' attribute conversion and the registration,
// generated by `cargo xtask codegen` from the core's model declarations.
mod generated;

use generated::*;

/// Reads a wire key (or an unknown field) of a model as an attribute.
pub(crate) fn wire_attribute<'py, T: serde::Serialize>(
    py: Python<'py>,
    model: &T,
    class: &str,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if !name.starts_with("__") {
        let dict = to_python(py, model)?;
        if let Ok(dict) = dict.cast::<pyo3::types::PyDict>()
            && let Some(value) = dict.get_item(name)?
        {
            return Ok(value);
        }
    }
    Err(PyAttributeError::new_err(format!("'{class}' object has no attribute '{name}'")))
}

// ----- provisioning -----

#[pymethods]
impl PyInstance {
    /// Whether this is an organization (``msp`` or ``mssp``).
    #[getter]
    fn is_organization(&self) -> bool {
        self.model().is_organization()
    }

    /// Whether the instance is suspended.
    #[getter]
    fn is_suspended(&self) -> bool {
        self.model().is_suspended()
    }
}

#[pymethods]
impl PyInstanceLogin {
    /// The ids of the instances that accepted the token.
    #[getter]
    fn succeeded_ids(&self) -> Vec<String> {
        self.model().succeeded_ids()
    }

    /// The ids of the instances that refused the token.
    #[getter]
    fn failed_ids(&self) -> Vec<String> {
        self.model().failed_ids()
    }
}

#[pymethods]
impl PyUser {
    /// Whether the user is enabled (a missing value counts as enabled).
    #[getter]
    fn is_enabled(&self) -> bool {
        self.model().is_enabled()
    }
}

// ----- scans -----

#[pymethods]
impl PyVulnerabilityScan {
    /// Whether this is a web application scan (its detail has flaws, not vulnerabilities).
    #[getter]
    fn is_web_application(&self) -> bool {
        self.model().is_web_application()
    }

    /// ``vulnerabilities`` when sent, else the sum of the severity counts.
    #[getter]
    fn total_vulnerabilities(&self) -> Option<u64> {
        self.model().total_vulnerabilities()
    }
}

/// The assets of a big scan detail, to free off the calling thread (see [`Owned`]).
fn take_bulk_assets(detail: &mut ScanDetail) -> Option<Bulk> {
    (detail.assets.len() >= BULK_ASSETS).then(|| Box::new(std::mem::take(&mut detail.assets)) as Bulk)
}

/// `(asset, finding)` pairs of a scan detail, for one kind of finding.
fn asset_findings<'py, C: Wrap>(
    py: Python<'py>,
    detail: &Arc<dyn Node<ScanDetail>>,
    pick: fn(&Asset) -> &[C],
) -> PyResult<Bound<'py, PyList>> {
    let assets: fn(&ScanDetail) -> &[Asset] = |detail| &detail.assets;
    let mut pairs = Vec::new();
    for index in 0..detail.get().assets.len() {
        let asset: Arc<dyn Node<Asset>> = Arc::new(Element { parent: detail.clone(), index, pick: assets });
        let asset_view = Asset::wrap(py, asset.clone())?;
        for finding in 0..pick(asset.get()).len() {
            let item = C::wrap(py, Arc::new(Element { parent: asset.clone(), index: finding, pick }))?;
            pairs.push(PyTuple::new(py, [asset_view.clone(), item])?);
        }
    }
    PyList::new(py, pairs)
}

#[pymethods]
impl PyScanDetail {
    /// Every vulnerability, as ``(asset, vulnerability)`` pairs.
    fn vulnerabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        asset_findings::<Vulnerability>(py, &self.node, |asset| &asset.vulnerabilities)
    }

    /// Every open port, as ``(asset, open_port)`` pairs.
    fn open_ports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        asset_findings::<OpenPort>(py, &self.node, |asset| &asset.open_ports)
    }

    /// Every web application flaw, as ``(asset, flaw)`` pairs.
    fn flaws<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        asset_findings::<Flaw>(py, &self.node, |asset| &asset.flaws)
    }
}

#[pymethods]
impl PyAsset {
    /// ``asset_id`` when sent, else ``id``.
    #[getter]
    fn identifier(&self) -> Option<String> {
        self.model().identifier().map(str::to_owned)
    }
}

#[pymethods]
impl PyVulnerability {
    /// How many URLs are affected, when the server said.
    #[getter]
    fn affected_url_count(&self) -> Option<u64> {
        self.model().affected_url_count()
    }
}

#[pymethods]
impl PyOpenPort {
    /// The port number, if it is a valid one.
    #[getter]
    fn port(&self) -> Option<u16> {
        self.model().port()
    }
}

#[pymethods]
impl PyBaselineScan {
    /// The checked targets: a count, or the list of targets, as the server sent them.
    #[getter]
    fn targets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.model().targets {
            None => Ok(py.None().into_bound(py)),
            Some(CountOrList::Count(count)) => Ok(count.into_pyobject(py)?.into_any()),
            Some(CountOrList::List(_)) => {
                let pick: fn(&BaselineScan) -> &[BaselineTarget] =
                    |scan| scan.targets.as_ref().map(CountOrList::items).unwrap_or(&[]);
                Ok(children(py, &self.node, pick)?.into_any())
            }
        }
    }

    /// How many targets were checked, when the server said.
    #[getter]
    fn target_count(&self) -> Option<u64> {
        self.model().target_count()
    }
}

// ----- dashboards -----

#[pymethods]
impl PyOverallDashboard {
    /// The five areas as ``(key, name, current, previous)`` tuples, in the order ``or``, ``ds``,
    /// ``vn``, ``sb``, ``cp``.
    #[getter]
    fn areas(&self) -> Vec<(&'static str, &'static str, Option<String>, Option<String>)> {
        self.model()
            .areas()
            .iter()
            .map(|area| {
                (
                    area.key,
                    area.name,
                    area.current.map(|grade| grade.as_str().to_owned()),
                    area.previous.map(|grade| grade.as_str().to_owned()),
                )
            })
            .collect()
    }
}

#[pymethods]
impl PyCves {
    /// The entry for one CVE id (compared case-insensitively), or ``None``.
    fn find<'py>(&self, py: Python<'py>, cve_id: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(index) = self.model().cves.iter().position(|cve| cve.cve.eq_ignore_ascii_case(cve_id.trim())) else {
            return Ok(None);
        };
        let pick: fn(&Cves) -> &[Cve] = |cves| &cves.cves;
        child(py, &self.node, pick, index as isize).map(Some)
    }
}

// ----- webhooks -----

/// Registers the model classes and [`Secret`].
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Secret>()?;
    generated::register(module)
}

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

use cyrisma_core::types::{
    Asset, AssetType, BaselineDashboard, BaselineScan, BaselineScans, BaselineTarget, ConvertedInstance, CountOrList,
    CreatedInstance, Cve, Cves, DataDashboard, DataScan, DataScans, DeletedWebhook, ErrorCode, Flaw, FlawInstance,
    Grade, GradingPeriod, Instance, InstanceLogin, InstanceStatus, InstanceStatusChange, InstanceType, MfaChange,
    MfaType, OpenPort, OverallDashboard, RiskLevel, ScanDetail, ScanType, User, Vulnerability, VulnerabilityDashboard,
    VulnerabilityScan, VulnerabilityScans, Webhook, WebhookEvent, WebhookEventType, WebhookEvents,
};
use cyrisma_core::wire::TextBool;
use cyrisma_core::{ApiSecret, WebhookSecret};
use cyrisma_transport::NewSecret;
use pyo3::exceptions::{PyAttributeError, PyIndexError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::convert::to_python;
use crate::errors::Failure;

/// A Rust value that becomes a Python object when a call completes.
pub(crate) trait IntoPython: Send + 'static {
    /// Converts the value (with the GIL).
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

impl IntoPython for () {
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py.None())
    }
}

impl IntoPython for Py<PyAny> {
    fn into_python(self, _py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self)
    }
}

impl IntoPython for bool {
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(pyo3::types::PyBool::new(py, self).to_owned().into_any().unbind())
    }
}

/// A string as Python's `repr()` writes it (for `__repr__` of classes that hold no model).
pub(crate) fn quoted(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|ch| match ch {
            '\\' => vec!['\\', '\\'],
            '\'' => vec!['\\', '\''],
            '\n' => vec!['\\', 'n'],
            ch if ch.is_control() => format!("\\x{:02x}", u32::from(ch) & 0xff).chars().collect(),
            ch => vec![ch],
        })
        .collect();
    format!("'{escaped}'")
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
        impl Attr for $ty {
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
        impl Attr for $ty {
            fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(PyString::new(py, self.as_str()).into_any())
            }
        }
    )*};
}

text_enum_attr!(InstanceType, InstanceStatus, GradingPeriod, RiskLevel, Grade, AssetType, WebhookEventType, ErrorCode);

macro_rules! numeric_enum_attr {
    ($($ty:ty),*) => {$(
        impl Attr for $ty {
            /// The numeric code as an `int`; a value that is not a number is kept as a `str`.
            fn attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                match self.as_str().trim().parse::<u64>() {
                    Ok(code) => Ok(code.into_pyobject(py)?.into_any()),
                    Err(_) => Ok(PyString::new(py, self.as_str()).into_any()),
                }
            }
        }
    )*};
}

numeric_enum_attr!(MfaType, ScanType);

/// Declares the Python view class of a Rust value: attribute getters, list views, `to_dict()`
/// and a `__repr__` of a few identifying fields. With `sequence`, the view is also a read-only
/// sequence of that list (`len()`, iteration, indexing).
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
            node: ::std::sync::Arc<dyn $crate::models::Node<$model>>,
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

model_class! {
    /// An organization (``msp``, ``mssp``) or instance (``standard``) of the partner's structure.
    PyInstance = "Instance" (Instance) {
        repr: [instance_id, name, instance_type, status],
        fields: {
            /// The instance id.
            instance_id,
            /// The display name.
            name,
            /// The short name.
            short_name,
            /// The parent organization's id.
            parent_id,
            /// The tree path of the instance in the partner's hierarchy.
            hierarchy,
            /// ``msp``, ``mssp`` or ``standard``.
            instance_type,
            /// Whether this is a consulting instance.
            is_consulting,
            /// The number of agents deployed: the usage figure.
            number_of_endpoints,
            /// The instance host (``cc123456.cyrisma.com``).
            url,
            /// The Microsoft tenant id.
            tenant_id,
            /// The key agents use to enrol.
            agent_key,
            /// The MFA method of an organization: 0 none, 1 email, 2 authenticator.
            mfa,
            /// ``provisioning``, ``active`` or ``suspended``.
            status,
            /// The country (data residency).
            country,
            /// When it was created (RFC 3339).
            created_at,
            /// ``monthly`` or ``quarterly``.
            grading_period,
        },
        lists: {},
    }
}

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

model_class! {
    /// The answer to creating an organization or instance.
    PyCreatedInstance = "CreatedInstance" (CreatedInstance) {
        repr: [instance_id],
        fields: {
            /// The new id.
            instance_id,
            /// The key agents use to enrol.
            agent_key,
        },
        lists: {},
    }
}

model_class! {
    /// The answer to converting a consulting instance.
    PyConvertedInstance = "ConvertedInstance" (ConvertedInstance) {
        repr: [instance_id, name, consulting_status],
        fields: {
            /// The instance id.
            instance_id,
            /// The name.
            name,
            /// The consulting status after the conversion.
            consulting_status,
        },
        lists: {},
    }
}

model_class! {
    /// The answer to suspending or reactivating an instance.
    PyInstanceStatusChange = "InstanceStatusChange" (InstanceStatusChange) {
        repr: [instance_id, name, status],
        fields: {
            /// The instance id.
            instance_id,
            /// The name.
            name,
            /// The new status.
            status,
        },
        lists: {},
    }
}

model_class! {
    /// The answer to changing an organization's MFA method.
    PyMfaChange = "MfaChange" (MfaChange) {
        repr: [instance_id, mfa_type],
        fields: {
            /// The organization id.
            instance_id,
            /// The new MFA method: 0 none, 1 email, 2 authenticator.
            mfa_type,
        },
        lists: {},
    }
}

model_class! {
    /// The answer to instance authentication: which instances accepted the token.
    PyInstanceLogin = "InstanceLogin" (InstanceLogin) {
        repr: [success_token_inserts, failed_token_inserts],
        fields: {
            /// The instances that accepted the token, as sent.
            success_token_inserts,
            /// The instances that refused it, as sent.
            failed_token_inserts,
        },
        lists: {},
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

model_class! {
    /// A user under an organization.
    PyUser = "User" (User) {
        repr: [id, username, enabled],
        fields: {
            /// The user id.
            id,
            /// The username (an email address).
            username,
            /// First name.
            first_name,
            /// Last name.
            last_name,
            /// Whether the user may log in (the wire sends ``"true"``/``"false"``).
            enabled,
            /// The organization the user belongs to.
            instance_id,
        },
        lists: {},
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

model_class! {
    /// One vulnerability scan of an instance's scan summary.
    PyVulnerabilityScan = "VulnerabilityScan" (VulnerabilityScan) {
        repr: [scan_id, scan_type, scan_name, grade_alpha],
        fields: {
            /// The scan id.
            scan_id,
            /// The scan type code: 5, 9, 10 or 11.
            scan_type,
            /// The server's name for the scan type.
            scan_type_name,
            /// The scan's name.
            scan_name,
            /// When the scan started (``YYYY-MM-DD HH:MM:SS``).
            scan_started,
            /// When the scan finished (``YYYY-MM-DD HH:MM:SS``).
            scan_finished,
            /// Critical findings.
            critical_vulnerabilities,
            /// High findings.
            high_vulnerabilities,
            /// Medium findings.
            medium_vulnerabilities,
            /// Low findings.
            low_vulnerabilities,
            /// All findings.
            vulnerabilities,
            /// The scan's letter grade.
            grade_alpha,
        },
        lists: {},
    }
}

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

model_class! {
    /// An instance's vulnerability scans (a sequence of :class:`VulnerabilityScan`).
    PyVulnerabilityScans = "VulnerabilityScans" (VulnerabilityScans) {
        repr: [],
        fields: {},
        lists: {},
        sequence: vulnerability_scans: VulnerabilityScan = |scans| &scans.vulnerability_scans,
    }
}

model_class! {
    /// One scan's detail: the scanned assets (a sequence of :class:`Asset`).
    PyScanDetail = "ScanDetail" (ScanDetail) {
        repr: [],
        fields: {},
        lists: {},
        sequence: assets: Asset = |detail| &detail.assets,
        bulk: |detail| {
            (detail.assets.len() >= BULK_ASSETS).then(|| Box::new(std::mem::take(&mut detail.assets)) as Bulk)
        },
    }
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

model_class! {
    /// A scanned asset, with its vulnerabilities, open ports and web flaws.
    PyAsset = "Asset" (Asset) {
        repr: [id, asset_id, name, ip_address],
        fields: {
            /// The asset's id within the scan.
            id,
            /// The asset's id in the instance (wire ``assetId``).
            asset_id,
            /// The asset's name.
            name,
            /// The IP address, or the URL of a web application (wire ``ipAddress``).
            ip_address,
            /// The human name of the scan type that found it (asset lists only).
            scan_type,
        },
        lists: {
            /// Vulnerabilities (IP-based scans).
            vulnerabilities: Vulnerability = |asset| &asset.vulnerabilities,
            /// Open ports (IP-based scans; wire ``openPorts`` or ``OpenPorts``).
            open_ports: OpenPort = |asset| &asset.open_ports,
            /// Flaws (web application scans).
            flaws: Flaw = |asset| &asset.flaws,
        },
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

model_class! {
    /// A vulnerability found on an asset.
    PyVulnerability = "Vulnerability" (Vulnerability) {
        repr: [cve, title, risk_level, score],
        fields: {
            /// The CVE id, when the finding has one.
            cve,
            /// The finding's title.
            title,
            /// The CVSS score.
            score,
            /// ``Critical``, ``High``, ``Medium``, ``Low`` or ``Info`` (wire ``riskLevel``).
            risk_level,
            /// When it was first seen (wire ``firstSeen``).
            first_seen,
            /// The affected URLs: a count, or the list of URLs (wire ``affectedUrls``).
            affected_urls,
        },
        lists: {},
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

model_class! {
    /// An open port found on an asset.
    PyOpenPort = "OpenPort" (OpenPort) {
        repr: [port_number, port_description, risk_level],
        fields: {
            /// The port number as sent (a string, wire ``portNumber``).
            port_number,
            /// What usually listens on the port.
            port_description,
            /// ``Critical``, ``High``, ``Medium``, ``Low`` or ``Info``.
            risk_level,
            /// The scanned target's name.
            target_name,
            /// The scanned target's IP address.
            target_ip,
        },
        lists: {},
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

model_class! {
    /// A web application flaw. ``alert_desc`` and ``alert_solution`` are HTML from the server:
    /// escape them before showing them in a page.
    PyFlaw = "Flaw" (Flaw) {
        repr: [alert_id, alert_name, risk_level],
        fields: {
            /// The alert id.
            alert_id,
            /// The alert's reference (rule) id.
            alert_ref,
            /// The alert's name.
            alert_name,
            /// ``Critical``, ``High``, ``Medium``, ``Low`` or ``Info``.
            risk_level,
            /// The scanned web application.
            target,
            /// How many URLs are affected.
            alert_count,
            /// The description (HTML).
            alert_desc,
            /// The remedy (HTML).
            alert_solution,
            /// References.
            references,
        },
        lists: {
            /// Where the flaw was seen.
            instances: FlawInstance = |flaw| &flaw.instances,
        },
    }
}

model_class! {
    /// One place where a web application flaw was seen.
    PyFlawInstance = "FlawInstance" (FlawInstance) {
        repr: [uri, method, param],
        fields: {
            /// The URL.
            uri,
            /// The HTTP method.
            method,
            /// The parameter involved.
            param,
            /// The attack the scanner sent.
            attack,
            /// What in the answer showed the flaw.
            evidence,
        },
        lists: {},
    }
}

model_class! {
    /// One data (sensitive data) scan.
    PyDataScan = "DataScan" (DataScan) {
        repr: [scan_id, scan_name, grade_alpha],
        fields: {
            /// The scan id.
            scan_id,
            /// The scan's name.
            scan_name,
            /// When the scan started.
            scan_started,
            /// When the scan finished.
            scan_finished,
            /// Files scanned.
            files_scanned,
            /// Files holding sensitive data.
            sensitive_files,
            /// Sensitive data matches.
            sensitive_matches,
            /// The scan's letter grade.
            grade_alpha,
        },
        lists: {},
    }
}

model_class! {
    /// An instance's data scans (a sequence of :class:`DataScan`).
    PyDataScans = "DataScans" (DataScans) {
        repr: [],
        fields: {},
        lists: {},
        sequence: data_scans: DataScan = |scans| &scans.data_scans,
    }
}

model_class! {
    /// One secure baseline scan.
    PyBaselineScan = "BaselineScan" (BaselineScan) {
        repr: [scan_id, scan_name, grade_alpha],
        fields: {
            /// The scan id.
            scan_id,
            /// The scan's name.
            scan_name,
            /// When the scan started.
            scan_started,
            /// When the scan finished.
            scan_finished,
            /// The benchmark checked against.
            benchmark,
            /// Checks passed.
            passed_checks,
            /// Checks failed.
            failed_checks,
            /// The scan's letter grade.
            grade_alpha,
        },
        lists: {},
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

model_class! {
    /// An instance's secure baseline scans (a sequence of :class:`BaselineScan`).
    PyBaselineScans = "BaselineScans" (BaselineScans) {
        repr: [],
        fields: {},
        lists: {},
        sequence: baseline_scans: BaselineScan = |scans| &scans.baseline_scans,
    }
}

model_class! {
    /// A target of the baseline dashboard, with its grade.
    PyBaselineTarget = "BaselineTarget" (BaselineTarget) {
        repr: [name, grade],
        fields: {
            /// The target's name.
            name,
            /// The target's grade.
            grade,
        },
        lists: {},
    }
}

// ----- dashboards -----

model_class! {
    /// Current and previous grades of the five areas: overall risk (``or``), data (``ds``),
    /// vulnerability (``vn``), secure baseline (``sb``) and compliance (``cp``).
    PyOverallDashboard = "OverallDashboard" (OverallDashboard) {
        repr: [current_or_grade, previous_or_grade, grading_period],
        fields: {
            /// Overall risk, current period.
            current_or_grade,
            /// Overall risk, previous period.
            previous_or_grade,
            /// Data, current period.
            current_ds_grade,
            /// Data, previous period.
            previous_ds_grade,
            /// Vulnerability, current period.
            current_vn_grade,
            /// Vulnerability, previous period.
            previous_vn_grade,
            /// Secure baseline, current period.
            current_sb_grade,
            /// Secure baseline, previous period.
            previous_sb_grade,
            /// Compliance, current period.
            current_cp_grade,
            /// Compliance, previous period.
            previous_cp_grade,
            /// ``monthly`` or ``quarterly``.
            grading_period,
        },
        lists: {},
    }
}

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

model_class! {
    /// The data dashboard.
    PyDataDashboard = "DataDashboard" (DataDashboard) {
        repr: [current_grade, previous_grade, grading_period],
        fields: {
            /// The grade of the current period.
            current_grade,
            /// The grade of the previous period.
            previous_grade,
            /// ``monthly`` or ``quarterly``.
            grading_period,
            /// Files holding sensitive data.
            sensitive_files,
        },
        lists: {},
    }
}

model_class! {
    /// The secure baseline dashboard.
    PyBaselineDashboard = "BaselineDashboard" (BaselineDashboard) {
        repr: [current_grade, previous_grade, grading_period],
        fields: {
            /// The grade of the current period.
            current_grade,
            /// The grade of the previous period.
            previous_grade,
            /// ``monthly`` or ``quarterly``.
            grading_period,
        },
        lists: {
            /// The checked targets and their grades.
            targets: BaselineTarget = |dashboard| &dashboard.targets,
        },
    }
}

model_class! {
    /// The vulnerability dashboard.
    PyVulnerabilityDashboard = "VulnerabilityDashboard" (VulnerabilityDashboard) {
        repr: [current_grade, previous_grade, critical, high, medium, low],
        fields: {
            /// The grade of the current period.
            current_grade,
            /// The grade of the previous period.
            previous_grade,
            /// ``monthly`` or ``quarterly``.
            grading_period,
            /// Critical findings.
            critical,
            /// High findings.
            high,
            /// Medium findings.
            medium,
            /// Low findings.
            low,
        },
        lists: {},
    }
}

model_class! {
    /// One CVE found on an instance.
    PyCve = "Cve" (Cve) {
        repr: [cve, title, score, risk_level],
        fields: {
            /// The CVE id.
            cve,
            /// The CVE's title.
            title,
            /// The CVSS score.
            score,
            /// ``Critical``, ``High``, ``Medium``, ``Low`` or ``Info``.
            risk_level,
            /// How many assets it affects.
            affected_assets,
            /// When it was first seen.
            first_seen,
        },
        lists: {},
    }
}

model_class! {
    /// An instance's CVEs (a sequence of :class:`Cve`).
    PyCves = "Cves" (Cves) {
        repr: [],
        fields: {},
        lists: {},
        sequence: cves: Cve = |cves| &cves.cves,
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

model_class! {
    /// A webhook registration (provisional contract). ``secret`` is only in the answer to
    /// ``create``: store it, it is not shown again.
    PyWebhook = "Webhook" (Webhook) {
        repr: [webhook_id, url, events],
        fields: {
            /// The registration id.
            webhook_id,
            /// The receiving URL.
            url,
            /// The event types delivered.
            events,
            /// The signing secret (a :class:`Secret`; only in the answer to ``create``).
            secret,
        },
        lists: {},
    }
}

model_class! {
    /// The answer to deleting a webhook registration.
    PyDeletedWebhook = "DeletedWebhook" (DeletedWebhook) {
        repr: [webhook_id, deleted],
        fields: {
            /// The deleted registration's id, if the server says.
            webhook_id,
            /// Whether the server says it deleted it.
            deleted,
        },
        lists: {},
    }
}

model_class! {
    /// A verified webhook delivery: the event envelope.
    PyWebhookEvent = "WebhookEvent" (WebhookEvent) {
        repr: [id, event_type, instance_id],
        fields: {
            /// The event id: drop a delivery whose id was already seen.
            id,
            /// What happened (wire ``type``): ``scan.completed``, ``user.created``, ...
            event_type,
            /// When it happened (RFC 3339).
            created_at,
            /// The partner the event belongs to.
            partner_id,
            /// The instance the event is about, if any.
            instance_id,
            /// The event-specific payload.
            data,
        },
        lists: {},
    }
}

// ----- secrets -----

/// A new API secret returned to Python as a [`Secret`].
pub(crate) struct SecretValue(pub(crate) ApiSecret);

impl IntoPython for SecretValue {
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, Secret { value: self.0, raw_body: false })?.into_any())
    }
}

/// A secret value (an API secret, a webhook signing secret). Its ``repr()`` and ``str()`` never
/// show it; read it with :meth:`get_secret_value`.
#[pyclass(module = "cyrisma._cyrisma", name = "Secret", frozen)]
pub(crate) struct Secret {
    value: ApiSecret,
    raw_body: bool,
}

impl Secret {
    /// Wraps a secret value.
    pub(crate) fn new(value: &str) -> Self {
        Self { value: ApiSecret::new(value), raw_body: false }
    }

    /// Wraps what the secret sink receives: the new secret, or the raw answer carrying it.
    pub(crate) fn from_new_secret(secret: &NewSecret) -> Self {
        match (secret.secret(), secret.raw_body()) {
            (Some(secret), _) => Self { value: secret.clone(), raw_body: false },
            (None, Some(body)) => {
                Self { value: ApiSecret::new(String::from_utf8_lossy(body).into_owned()), raw_body: true }
            }
            (None, None) => Self { value: ApiSecret::new(""), raw_body: true },
        }
    }

    /// The value.
    pub(crate) fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

#[pymethods]
impl Secret {
    #[new]
    fn py_new(value: &str) -> Self {
        Self::new(value)
    }

    /// The secret itself. Call this only where it goes into a credential store.
    fn get_secret_value(&self) -> String {
        self.value.expose_secret().to_owned()
    }

    /// Whether this holds the raw answer of a secret rotation that could not be parsed (read the
    /// new secret from it by hand) rather than the secret itself.
    #[getter]
    fn is_raw_body(&self) -> bool {
        self.raw_body
    }

    fn __repr__(&self) -> &'static str {
        "Secret('**********')"
    }

    fn __str__(&self) -> &'static str {
        "**********"
    }

    fn __bool__(&self) -> bool {
        !self.value.is_empty()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Secret>().is_ok_and(|other| other.get().value == self.value)
    }

    fn __hash__(&self) -> u64 {
        // Equal secrets must hash alike; the hash reveals nothing useful.
        0
    }
}

/// The Python classes of the models, for registration.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Secret>()?;
    module.add_class::<PyInstance>()?;
    module.add_class::<PyCreatedInstance>()?;
    module.add_class::<PyConvertedInstance>()?;
    module.add_class::<PyInstanceStatusChange>()?;
    module.add_class::<PyMfaChange>()?;
    module.add_class::<PyInstanceLogin>()?;
    module.add_class::<PyUser>()?;
    module.add_class::<PyVulnerabilityScan>()?;
    module.add_class::<PyVulnerabilityScans>()?;
    module.add_class::<PyScanDetail>()?;
    module.add_class::<PyAsset>()?;
    module.add_class::<PyVulnerability>()?;
    module.add_class::<PyOpenPort>()?;
    module.add_class::<PyFlaw>()?;
    module.add_class::<PyFlawInstance>()?;
    module.add_class::<PyDataScan>()?;
    module.add_class::<PyDataScans>()?;
    module.add_class::<PyBaselineScan>()?;
    module.add_class::<PyBaselineScans>()?;
    module.add_class::<PyBaselineTarget>()?;
    module.add_class::<PyOverallDashboard>()?;
    module.add_class::<PyDataDashboard>()?;
    module.add_class::<PyBaselineDashboard>()?;
    module.add_class::<PyVulnerabilityDashboard>()?;
    module.add_class::<PyCve>()?;
    module.add_class::<PyCves>()?;
    module.add_class::<PyWebhook>()?;
    module.add_class::<PyDeletedWebhook>()?;
    module.add_class::<PyWebhookEvent>()?;
    Ok(())
}

//! Conversions between serde data and Python objects: a serde `Serializer` that builds Python
//! dicts, lists, strings and numbers directly (for `to_dict()` and the emulator's records), and
//! the reverse reading of Python values into `serde_json::Value` (for fault descriptions).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::ser::{self, Serialize};

/// Converts any serializable value to the Python object `json.loads` would give for its JSON.
///
/// Object keys repeat across the elements of a document, so each distinct key becomes one
/// Python string, reused (with its cached hash) for every dict that has it.
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let keys = KeyCache::default();
    value.serialize(PySerializer { py, keys: &keys }).map_err(|error| error.0)
}

/// The Python strings of the object keys seen so far in one conversion, and of short string
/// values.
///
/// Scan details repeat most of their values (risk levels, port numbers, dates, titles: about one
/// distinct string in seven), so equal short values share one Python string, as keys do, instead
/// of each being allocated and decoded again. Strings are immutable in Python, so sharing them is
/// invisible to the caller.
#[derive(Default)]
struct KeyCache<'py> {
    strings: RefCell<HashMap<String, Bound<'py, PyString>, BuildHasherDefault<KeyHasher>>>,
    values: RefCell<HashMap<String, Bound<'py, PyString>, BuildHasherDefault<KeyHasher>>>,
}

/// The longest string value that is shared (longer ones are rarely repeated).
const SHARED_VALUE_BYTES: usize = 96;

/// How many distinct values are kept per conversion (bounds the cache's memory).
const SHARED_VALUES: usize = 16 * 1024;

/// A fast hash for short object keys (FxHash's mixing, 8 bytes at a time): the cache is looked
/// up once per field of every object, and SipHash's DoS resistance buys nothing for keys that
/// come from the model's own field names.
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut word = [0u8; 8];
        let rest = chunks.remainder();
        word[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(word));
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<'py> KeyCache<'py> {
    fn get(&self, py: Python<'py>, key: &str) -> Bound<'py, PyAny> {
        if let Some(string) = self.strings.borrow().get(key) {
            return string.clone().into_any();
        }
        let string = PyString::new(py, key);
        self.strings.borrow_mut().insert(key.to_owned(), string.clone());
        string.into_any()
    }

    /// A string value: shared with earlier equal values when it is short.
    fn value(&self, py: Python<'py>, value: &str) -> Bound<'py, PyAny> {
        if value.len() > SHARED_VALUE_BYTES {
            return PyString::new(py, value).into_any();
        }
        if let Some(string) = self.values.borrow().get(value) {
            return string.clone().into_any();
        }
        let string = PyString::new(py, value);
        let mut values = self.values.borrow_mut();
        if values.len() < SHARED_VALUES {
            values.insert(value.to_owned(), string.clone());
        }
        string.into_any()
    }
}

/// Serializes an object key: strings through the cache, anything else as a value.
#[derive(Clone, Copy)]
struct KeySerializer<'a, 'py> {
    inner: PySerializer<'a, 'py>,
}

impl<'a, 'py> KeySerializer<'a, 'py> {
    fn key<T: Serialize + ?Sized>(self, key: &T) -> Out<'py> {
        key.serialize(self)
    }
}

macro_rules! forward_key {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        fn $method(self, $($arg: $ty),*) -> $out {
            self.inner.$method($($arg),*)
        }
    )*};
}

impl<'a, 'py> ser::Serializer for KeySerializer<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;
    type SerializeSeq = SeqBuilder<'a, 'py>;
    type SerializeTuple = SeqBuilder<'a, 'py>;
    type SerializeTupleStruct = SeqBuilder<'a, 'py>;
    type SerializeTupleVariant = SeqBuilder<'a, 'py>;
    type SerializeMap = MapBuilder<'a, 'py>;
    type SerializeStruct = MapBuilder<'a, 'py>;
    type SerializeStructVariant = MapBuilder<'a, 'py>;

    fn serialize_str(self, v: &str) -> Out<'py> {
        Ok(self.inner.keys.get(self.inner.py, v))
    }

    forward_key! {
        serialize_bool(v: bool) -> Out<'py>;
        serialize_i8(v: i8) -> Out<'py>;
        serialize_i16(v: i16) -> Out<'py>;
        serialize_i32(v: i32) -> Out<'py>;
        serialize_i64(v: i64) -> Out<'py>;
        serialize_u8(v: u8) -> Out<'py>;
        serialize_u16(v: u16) -> Out<'py>;
        serialize_u32(v: u32) -> Out<'py>;
        serialize_u64(v: u64) -> Out<'py>;
        serialize_f32(v: f32) -> Out<'py>;
        serialize_f64(v: f64) -> Out<'py>;
        serialize_char(v: char) -> Out<'py>;
        serialize_bytes(v: &[u8]) -> Out<'py>;
        serialize_none() -> Out<'py>;
        serialize_unit() -> Out<'py>;
        serialize_unit_struct(name: &'static str) -> Out<'py>;
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> Out<'py>;
        serialize_seq(len: Option<usize>) -> Result<SeqBuilder<'a, 'py>, ConvertError>;
        serialize_tuple(len: usize) -> Result<SeqBuilder<'a, 'py>, ConvertError>;
        serialize_tuple_struct(name: &'static str, len: usize) -> Result<SeqBuilder<'a, 'py>, ConvertError>;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Result<SeqBuilder<'a, 'py>, ConvertError>;
        serialize_map(len: Option<usize>) -> Result<MapBuilder<'a, 'py>, ConvertError>;
        serialize_struct(name: &'static str, len: usize) -> Result<MapBuilder<'a, 'py>, ConvertError>;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> Result<MapBuilder<'a, 'py>, ConvertError>;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Out<'py> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Out<'py> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Out<'py> {
        self.inner.serialize_newtype_variant(name, index, variant, value)
    }
}

/// A serialization failure, carrying the Python exception.
#[derive(Debug)]
pub(crate) struct ConvertError(PyErr);

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for ConvertError {}

impl ser::Error for ConvertError {
    fn custom<M: std::fmt::Display>(message: M) -> Self {
        ConvertError(PyValueError::new_err(message.to_string()))
    }
}

impl From<PyErr> for ConvertError {
    fn from(error: PyErr) -> Self {
        ConvertError(error)
    }
}

#[derive(Clone, Copy)]
struct PySerializer<'a, 'py> {
    py: Python<'py>,
    keys: &'a KeyCache<'py>,
}

type Out<'py> = Result<Bound<'py, PyAny>, ConvertError>;

impl<'a, 'py> ser::Serializer for PySerializer<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;
    type SerializeSeq = SeqBuilder<'a, 'py>;
    type SerializeTuple = SeqBuilder<'a, 'py>;
    type SerializeTupleStruct = SeqBuilder<'a, 'py>;
    type SerializeTupleVariant = SeqBuilder<'a, 'py>;
    type SerializeMap = MapBuilder<'a, 'py>;
    type SerializeStruct = MapBuilder<'a, 'py>;
    type SerializeStructVariant = MapBuilder<'a, 'py>;

    fn serialize_bool(self, v: bool) -> Out<'py> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }

    fn serialize_i8(self, v: i8) -> Out<'py> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Out<'py> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Out<'py> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Out<'py> {
        Ok(PyInt::new(self.py, v).into_any())
    }

    fn serialize_u8(self, v: u8) -> Out<'py> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Out<'py> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Out<'py> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Out<'py> {
        Ok(PyInt::new(self.py, v).into_any())
    }

    fn serialize_f32(self, v: f32) -> Out<'py> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Out<'py> {
        Ok(PyFloat::new(self.py, v).into_any())
    }

    fn serialize_char(self, v: char) -> Out<'py> {
        let mut buffer = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buffer))
    }

    fn serialize_str(self, v: &str) -> Out<'py> {
        Ok(self.keys.value(self.py, v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Out<'py> {
        Ok(PyBytes::new(self.py, v).into_any())
    }

    fn serialize_none(self) -> Out<'py> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Out<'py> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Out<'py> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Out<'py> {
        self.serialize_none()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Out<'py> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Out<'py> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Out<'py> {
        let dict = PyDict::new(self.py);
        dict.set_item(variant, value.serialize(self)?)?;
        Ok(dict.into_any())
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder<'a, 'py>, ConvertError> {
        Ok(SeqBuilder { serializer: self, items: Vec::with_capacity(len.unwrap_or(0).min(4096)), variant: None })
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder<'a, 'py>, ConvertError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder<'a, 'py>, ConvertError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'a, 'py>, ConvertError> {
        let mut builder = self.serialize_seq(Some(len))?;
        builder.variant = Some(variant);
        Ok(builder)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder<'a, 'py>, ConvertError> {
        Ok(MapBuilder { serializer: self, dict: PyDict::new(self.py), key: None, variant: None })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder<'a, 'py>, ConvertError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapBuilder<'a, 'py>, ConvertError> {
        let mut builder = self.serialize_map(Some(len))?;
        builder.variant = Some(variant);
        Ok(builder)
    }
}

pub(crate) struct SeqBuilder<'a, 'py> {
    serializer: PySerializer<'a, 'py>,
    items: Vec<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'a, 'py> SeqBuilder<'a, 'py> {
    fn finish(self) -> Out<'py> {
        let list = PyList::new(self.serializer.py, self.items)?.into_any();
        match self.variant {
            Some(variant) => {
                let dict = PyDict::new(self.serializer.py);
                dict.set_item(variant, list)?;
                Ok(dict.into_any())
            }
            None => Ok(list),
        }
    }
}

impl<'a, 'py> ser::SerializeSeq for SeqBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.items.push(value.serialize(self.serializer)?);
        Ok(())
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeTuple for SeqBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeTupleStruct for SeqBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeTupleVariant for SeqBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

pub(crate) struct MapBuilder<'a, 'py> {
    serializer: PySerializer<'a, 'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'a, 'py> MapBuilder<'a, 'py> {
    fn finish(self) -> Out<'py> {
        match self.variant {
            Some(variant) => {
                let outer = PyDict::new(self.serializer.py);
                outer.set_item(variant, self.dict)?;
                Ok(outer.into_any())
            }
            None => Ok(self.dict.into_any()),
        }
    }
}

impl<'a, 'py> ser::SerializeMap for MapBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ConvertError> {
        self.key = Some(KeySerializer { inner: self.serializer }.key(key)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        let key = self.key.take().ok_or_else(|| <ConvertError as ser::Error>::custom("a map value without a key"))?;
        self.dict.set_item(key, value.serialize(self.serializer)?)?;
        Ok(())
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), ConvertError> {
        self.dict.set_item(KeySerializer { inner: self.serializer }.key(key)?, value.serialize(self.serializer)?)?;
        Ok(())
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeStruct for MapBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), ConvertError> {
        let key = self.serializer.keys.get(self.serializer.py, key);
        self.dict.set_item(key, value.serialize(self.serializer)?)?;
        Ok(())
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

impl<'a, 'py> ser::SerializeStructVariant for MapBuilder<'a, 'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ConvertError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), ConvertError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Out<'py> {
        self.finish()
    }
}

/// Reads a Python value made of `None`, booleans, numbers, strings, lists, tuples and dicts with
/// string keys into JSON. `what` names the argument in errors.
pub(crate) fn to_json(value: &Bound<'_, PyAny>, what: &str) -> Result<serde_json::Value, crate::errors::Failure> {
    use serde_json::Value;
    let unsupported = || {
        crate::errors::Failure::argument(
            what,
            format!("`{what}` holds a value JSON cannot carry: use None, booleans, numbers, strings, lists and dicts"),
        )
    };
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(number) = value.extract::<i64>() {
            return Ok(Value::from(number));
        }
        return value.extract::<u64>().map(Value::from).map_err(|_| unsupported());
    }
    if let Ok(number) = value.cast::<PyFloat>() {
        return serde_json::Number::from_f64(number.value()).map(Value::Number).ok_or_else(unsupported);
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Value::String(text.to_cow().map_err(|_| unsupported())?.into_owned()));
    }
    if let Ok(list) = value.cast::<PyList>() {
        return list.iter().map(|item| to_json(&item, what)).collect::<Result<Vec<_>, _>>().map(Value::Array);
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return tuple.iter().map(|item| to_json(&item, what)).collect::<Result<Vec<_>, _>>().map(Value::Array);
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (key, item) in dict.iter() {
            let key: String = key.extract().map_err(|_| unsupported())?;
            map.insert(key, to_json(&item, what)?);
        }
        return Ok(Value::Object(map));
    }
    Err(unsupported())
}

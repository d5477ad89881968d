//! Arrow to rows: each table's record batches back into its typed rows by reading the arrays
//! directly (no JSON in between), all rows or only the ones asked for.
//!
//! [`Decode`] is implemented for every row type of the dataset's schema by its table
//! declaration; [`DecodeValue`] is how one field's type reads one row of its column. A column
//! missing from the batch reads as null for a nullable field and is an error otherwise. String
//! columns may be plain or dictionary-encoded (as some engines rewrite them).

use arrow_array::cast::AsArray;
use arrow_array::types::{Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{AnyDictionaryArray, DictionaryArray, StringArray, StringViewArray};
use arrow_array::{Array, BooleanArray, Float64Array, Int32Array, Int64Array, LargeStringArray, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

/// A value type of a table's field: how it is read from its column.
pub trait DecodeValue: Sized {
    /// A typed view of the column.
    type Reader<'a>;

    /// The view of the column `name` (`None`: the batch has no such column).
    fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Self::Reader<'a>, String>;

    /// The value at `index` (which is below the batch's row count).
    fn read(reader: &Self::Reader<'_>, index: usize) -> Self;
}

fn missing(name: &str) -> String {
    format!("column {name} is missing")
}

fn mismatch(name: &str, found: &DataType, expected: &str) -> String {
    format!("column {name} is {found}, not {expected}")
}

/// A string column in any of the layouts Arrow readers produce.
pub enum Strings<'a> {
    /// No such column: every value is null.
    Missing,
    /// `Utf8`.
    Plain(&'a StringArray),
    /// `LargeUtf8`.
    Large(&'a LargeStringArray),
    /// `Utf8View`.
    View(&'a StringViewArray),
    /// A dictionary of `Utf8` values, with keys of any signed width turned into indices.
    Dictionary(Box<dyn Fn(usize) -> Option<usize> + 'a>, &'a StringArray),
}

impl Strings<'_> {
    /// The string at `index`, `None` when null.
    pub fn get(&self, index: usize) -> Option<&str> {
        match self {
            Self::Missing => None,
            Self::Plain(array) => array.is_valid(index).then(|| array.value(index)),
            Self::Large(array) => array.is_valid(index).then(|| array.value(index)),
            Self::View(array) => array.is_valid(index).then(|| array.value(index)),
            Self::Dictionary(key, values) => {
                key(index).filter(|key| values.is_valid(*key)).map(|key| values.value(key))
            }
        }
    }
}

fn dictionary<'a, K: arrow_array::types::ArrowDictionaryKeyType>(
    array: &'a DictionaryArray<K>,
    name: &str,
) -> Result<Strings<'a>, String> {
    let values = array.values().as_string_opt::<i32>().ok_or_else(|| mismatch(name, array.data_type(), "string"))?;
    let keys = array.normalized_keys();
    Ok(Strings::Dictionary(
        Box::new(move |index| {
            array.keys().is_valid(index).then(|| keys.get(index).copied()).flatten().filter(|key| *key < values.len())
        }),
        values,
    ))
}

/// Reads a string column (`Utf8`, `LargeUtf8`, `Utf8View` or a dictionary of `Utf8`).
pub fn strings<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Strings<'a>, String> {
    let Some(column) = column else { return Ok(Strings::Missing) };
    match column.data_type() {
        DataType::Utf8 => Ok(Strings::Plain(column.as_string::<i32>())),
        DataType::LargeUtf8 => Ok(Strings::Large(column.as_string::<i64>())),
        DataType::Utf8View => Ok(Strings::View(column.as_string_view())),
        DataType::Dictionary(key, _) => match key.as_ref() {
            DataType::Int8 => dictionary(column.as_dictionary::<Int8Type>(), name),
            DataType::Int16 => dictionary(column.as_dictionary::<Int16Type>(), name),
            DataType::Int32 => dictionary(column.as_dictionary::<Int32Type>(), name),
            DataType::Int64 => dictionary(column.as_dictionary::<Int64Type>(), name),
            _ => Err(mismatch(name, column.data_type(), "string")),
        },
        other => Err(mismatch(name, other, "string")),
    }
}

impl DecodeValue for Option<String> {
    type Reader<'a> = Strings<'a>;

    fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Strings<'a>, String> {
        strings(column, name)
    }

    fn read(reader: &Strings<'_>, index: usize) -> Self {
        reader.get(index).map(str::to_owned)
    }
}

impl DecodeValue for String {
    type Reader<'a> = Strings<'a>;

    fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Strings<'a>, String> {
        match strings(column, name)? {
            Strings::Missing => Err(missing(name)),
            strings => Ok(strings),
        }
    }

    fn read(reader: &Strings<'_>, index: usize) -> Self {
        reader.get(index).unwrap_or_default().to_owned()
    }
}

/// A 64-bit integer column: `Int64` or a timestamp in microseconds.
pub enum Integers<'a> {
    /// No such column.
    Missing,
    /// `Int64`.
    Int64(&'a Int64Array),
    /// `Timestamp(Microsecond, _)`.
    Micros(&'a arrow_array::TimestampMicrosecondArray),
}

impl Integers<'_> {
    fn get(&self, index: usize) -> Option<i64> {
        match self {
            Self::Missing => None,
            Self::Int64(array) => array.is_valid(index).then(|| array.value(index)),
            Self::Micros(array) => array.is_valid(index).then(|| array.value(index)),
        }
    }
}

fn integers<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Integers<'a>, String> {
    let Some(column) = column else { return Ok(Integers::Missing) };
    match column.data_type() {
        DataType::Int64 => Ok(Integers::Int64(column.as_primitive::<Int64Type>())),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Ok(Integers::Micros(column.as_primitive::<TimestampMicrosecondType>()))
        }
        other => Err(mismatch(name, other, "int64")),
    }
}

impl DecodeValue for Option<i64> {
    type Reader<'a> = Integers<'a>;

    fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Integers<'a>, String> {
        integers(column, name)
    }

    fn read(reader: &Integers<'_>, index: usize) -> Self {
        reader.get(index)
    }
}

impl DecodeValue for i64 {
    type Reader<'a> = Integers<'a>;

    fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Integers<'a>, String> {
        match integers(column, name)? {
            Integers::Missing => Err(missing(name)),
            integers => Ok(integers),
        }
    }

    fn read(reader: &Integers<'_>, index: usize) -> Self {
        reader.get(index).unwrap_or_default()
    }
}

/// Declares the readers of a primitive type: `$array` columns of `$data_type`.
macro_rules! primitive {
    ($ty:ty, $array:ty, $data_type:pat, $expected:literal) => {
        impl DecodeValue for Option<$ty> {
            type Reader<'a> = Option<&'a $array>;

            fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Self::Reader<'a>, String> {
                let Some(column) = column else { return Ok(None) };
                match column.data_type() {
                    $data_type => column
                        .as_any()
                        .downcast_ref::<$array>()
                        .map(Some)
                        .ok_or_else(|| mismatch(name, column.data_type(), $expected)),
                    other => Err(mismatch(name, other, $expected)),
                }
            }

            fn read(reader: &Self::Reader<'_>, index: usize) -> Self {
                reader.filter(|array| array.is_valid(index)).map(|array| array.value(index))
            }
        }

        impl DecodeValue for $ty {
            type Reader<'a> = &'a $array;

            fn reader<'a>(column: Option<&'a dyn Array>, name: &str) -> Result<Self::Reader<'a>, String> {
                <Option<$ty> as DecodeValue>::reader(column, name)?.ok_or_else(|| missing(name))
            }

            fn read(reader: &Self::Reader<'_>, index: usize) -> Self {
                if reader.is_valid(index) { reader.value(index) } else { Default::default() }
            }
        }
    };
}

primitive!(i32, Int32Array, DataType::Int32, "int32");
primitive!(f64, Float64Array, DataType::Float64, "float64");
primitive!(bool, BooleanArray, DataType::Boolean, "bool");

/// A table's row type, read back from record batches of its table.
pub trait Decode: Sized {
    /// The rows at `indices` (each below the batch's row count), in that order.
    fn decode_rows(batch: &RecordBatch, indices: &[usize]) -> Result<Vec<Self>, String>;

    /// Every row of the batch.
    fn decode(batch: &RecordBatch) -> Result<Vec<Self>, String> {
        let indices: Vec<usize> = (0..batch.num_rows()).collect();
        Self::decode_rows(batch, &indices)
    }
}

/// Checks that every index is a row of the batch.
pub(crate) fn check_indices(batch: &RecordBatch, indices: &[usize]) -> Result<(), String> {
    match indices.iter().find(|index| **index >= batch.num_rows()) {
        Some(index) => Err(format!("row {index} is past the batch's {} rows", batch.num_rows())),
        None => Ok(()),
    }
}

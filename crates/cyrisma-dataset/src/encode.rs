//! Rows to Arrow: each table's typed rows become one [`RecordBatch`] column by column, with
//! Arrow builders sized up front (no serde, no JSON in between).
//!
//! [`Encode`] is implemented for every row type of the dataset's schema by its table
//! declaration; [`EncodeValue`] is how one field's type becomes one Arrow array of its column's
//! documented type.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use arrow_schema::SchemaRef;

/// The time zone of every `timestamp` column.
pub(crate) const UTC: &str = "+00:00";

/// A value type of a table's field: how a column of them becomes an Arrow array.
pub trait EncodeValue {
    /// The array of one column: `get` picks the field out of each row; `kind` is the column's
    /// documented type (`timestamp` makes a 64-bit integer a UTC timestamp).
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, kind: &str) -> ArrayRef;
}

impl EncodeValue for String {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        let bytes = rows.iter().map(|row| get(row).len()).sum();
        let mut builder = StringBuilder::with_capacity(rows.len(), bytes);
        for row in rows {
            builder.append_value(get(row));
        }
        Arc::new(builder.finish())
    }
}

impl EncodeValue for Option<String> {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        let bytes = rows.iter().map(|row| get(row).as_ref().map_or(0, String::len)).sum();
        let mut builder = StringBuilder::with_capacity(rows.len(), bytes);
        for row in rows {
            builder.append_option(get(row).as_deref());
        }
        Arc::new(builder.finish())
    }
}

impl EncodeValue for i64 {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, kind: &str) -> ArrayRef {
        let values: Vec<i64> = rows.iter().map(|row| *get(row)).collect();
        if kind == "timestamp" {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone(UTC))
        } else {
            Arc::new(Int64Array::from(values))
        }
    }
}

impl EncodeValue for Option<i64> {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, kind: &str) -> ArrayRef {
        let values: Vec<Option<i64>> = rows.iter().map(|row| *get(row)).collect();
        if kind == "timestamp" {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone(UTC))
        } else {
            Arc::new(Int64Array::from(values))
        }
    }
}

impl EncodeValue for i32 {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        Arc::new(rows.iter().map(|row| *get(row)).collect::<Int32Array>())
    }
}

impl EncodeValue for Option<i32> {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        Arc::new(rows.iter().map(|row| *get(row)).collect::<Int32Array>())
    }
}

impl EncodeValue for f64 {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        Arc::new(rows.iter().map(|row| *get(row)).collect::<Float64Array>())
    }
}

impl EncodeValue for Option<f64> {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        Arc::new(rows.iter().map(|row| *get(row)).collect::<Float64Array>())
    }
}

impl EncodeValue for bool {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        Arc::new(rows.iter().map(|row| Some(*get(row))).collect::<BooleanArray>())
    }
}

impl EncodeValue for Option<bool> {
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, _kind: &str) -> ArrayRef {
        Arc::new(rows.iter().map(|row| *get(row)).collect::<BooleanArray>())
    }
}

/// A table's row type: its rows as one record batch of the table's schema.
pub trait Encode: Sized {
    /// The table's Arrow schema.
    fn schema() -> SchemaRef;

    /// One array per column, in order.
    fn arrays(rows: &[Self]) -> Vec<ArrayRef>;

    /// The rows as one record batch with the table's Arrow schema.
    fn encode(rows: &[Self]) -> Result<RecordBatch, String> {
        RecordBatch::try_new(Self::schema(), Self::arrays(rows)).map_err(|error| error.to_string())
    }
}

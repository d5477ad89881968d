//! Liberal parsing of what the server sends, and the macros that declare wire models.
//!
//! The contract's rule is "be liberal": numbers may come as strings, booleans as `"true"`, `"1"`
//! or `1`, optional fields may be missing or `null`, key casing varies on some endpoints, and
//! unknown fields must survive a round trip. This module provides:
//!
//! - [`Lenient`], implemented for every type a model field may have: it says how to read the type
//!   liberally, what a missing field means, and whether a value is skipped when serializing;
//! - `model!`, which declares a struct with a hand-written, single-pass visitor (known keys are
//!   matched exactly, then case-insensitively; anything else lands in `extra`). It avoids
//!   `#[serde(flatten)]`, which buffers every object and costs about half the parse speed;
//! - `wire_enum!`, which declares a string (or numeric) enum with an `Unknown(String)` fallback.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

/// Fields the server sent that a model does not know, kept verbatim and in order of arrival.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// A type that can be read liberally from JSON.
pub trait Lenient: Sized {
    /// Reads a present, non-missing value.
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;

    /// Reads the value of an `Option<Self>` field. The default maps `null` to `None`; types for
    /// which an empty string means "no value" (numbers, grades, enums) override it.
    fn lenient_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        deserializer.deserialize_option(OptionVisitor(PhantomData))
    }

    /// The value of a field that is missing from the object, or `None` if it is required.
    fn missing() -> Option<Self> {
        None
    }

    /// Whether this value is left out when serializing (an absent optional field).
    fn is_absent(&self) -> bool {
        false
    }
}

/// Reads a string liberally: strings, numbers and booleans are accepted.
pub fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(StringVisitor)
}

/// A [`DeserializeSeed`] that reads any [`Lenient`] type.
pub struct LenientSeed<T>(PhantomData<T>);

impl<T> LenientSeed<T> {
    /// Creates the seed.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: Lenient> DeserializeSeed<'de> for LenientSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize_lenient(deserializer)
    }
}

/// The key of an object entry, as seen by a model's visitor.
pub enum Key<F> {
    /// A key the model knows.
    Known(F),
    /// Any other key, kept for `extra`.
    Unknown(String),
}

/// Reads an object key without allocating when the model knows it.
pub struct KeySeed<F>(pub fn(&str) -> Option<F>);

impl<'de, F> DeserializeSeed<'de> for KeySeed<F> {
    type Value = Key<F>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<F>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<F> Visitor<'_> for KeySeed<F> {
    type Value = Key<F>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<F>, E> {
        Ok(match (self.0)(key) {
            Some(field) => Key::Known(field),
            None => Key::Unknown(key.to_owned()),
        })
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Key<F>, E> {
        Ok(match (self.0)(&key) {
            Some(field) => Key::Known(field),
            None => Key::Unknown(key),
        })
    }
}

struct OptionVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for OptionVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        T::deserialize_lenient(deserializer).map(Some)
    }
}

impl<T: Lenient> Lenient for Option<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::lenient_option(deserializer)
    }

    fn missing() -> Option<Self> {
        Some(None)
    }

    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
        Ok(value.to_string())
    }
}

impl Lenient for String {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_string(deserializer)
    }
}

/// Reads a number from a number or a numeric string; `T` converts from the parsed forms.
struct NumberVisitor<T>(PhantomData<T>);

/// Numeric types read by [`NumberVisitor`].
trait LenientNumber: Sized {
    const EXPECTING: &'static str;
    fn from_u64(value: u64) -> Option<Self>;
    fn from_i64(value: i64) -> Option<Self>;
    fn from_f64(value: f64) -> Option<Self>;
    fn parse(text: &str) -> Option<Self>;
}

impl<T: LenientNumber> Visitor<'_> for NumberVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        T::from_u64(value).ok_or_else(|| E::custom(format_args!("number out of range for {}", T::EXPECTING)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        T::from_i64(value).ok_or_else(|| E::custom(format_args!("number out of range for {}", T::EXPECTING)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        T::from_f64(value).ok_or_else(|| E::custom(format_args!("number out of range for {}", T::EXPECTING)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        T::parse(value.trim())
            .ok_or_else(|| E::custom(format_args!("expected {}, found a non-numeric string", T::EXPECTING)))
    }
}

/// Like [`NumberVisitor`] but for optional fields: `null` and `""` are `None`.
struct OptionalNumberVisitor<T>(PhantomData<T>);

impl<'de, T: LenientNumber> Visitor<'de> for OptionalNumberVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Option<T>, E> {
        NumberVisitor::<T>(PhantomData).visit_u64(value).map(Some)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Option<T>, E> {
        NumberVisitor::<T>(PhantomData).visit_i64(value).map(Some)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Option<T>, E> {
        NumberVisitor::<T>(PhantomData).visit_f64(value).map(Some)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Option<T>, E> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        NumberVisitor::<T>(PhantomData).visit_str(value).map(Some)
    }
}

macro_rules! lenient_integer {
    ($($ty:ty),*) => {$(
        impl LenientNumber for $ty {
            const EXPECTING: &'static str = concat!("an integer (", stringify!($ty), ")");

            fn from_u64(value: u64) -> Option<Self> {
                <$ty>::try_from(value).ok()
            }

            fn from_i64(value: i64) -> Option<Self> {
                <$ty>::try_from(value).ok()
            }

            fn from_f64(value: f64) -> Option<Self> {
                // Accept integral floats such as `5.0` inside the type's range. `as` saturates,
                // and `MAX as f64` rounds up to the first value out of range (2^64 for `u64`),
                // so the round trip alone would let `1.8446744073709552e19` through as
                // `u64::MAX`: the upper bound is exclusive.
                let in_range = value >= <$ty>::MIN as f64 && value < <$ty>::MAX as f64 + 1.0;
                (in_range && value.fract() == 0.0).then_some(value as $ty)
            }

            fn parse(text: &str) -> Option<Self> {
                text.parse::<$ty>().ok().or_else(|| text.parse::<f64>().ok().and_then(Self::from_f64))
            }
        }

        impl Lenient for $ty {
            fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(NumberVisitor::<$ty>(PhantomData))
            }

            fn lenient_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
                deserializer.deserialize_any(OptionalNumberVisitor::<$ty>(PhantomData))
            }
        }
    )*};
}

lenient_integer!(u32, u64, i64);

impl LenientNumber for f64 {
    const EXPECTING: &'static str = "a number";

    fn from_u64(value: u64) -> Option<Self> {
        Some(value as f64)
    }

    fn from_i64(value: i64) -> Option<Self> {
        Some(value as f64)
    }

    fn from_f64(value: f64) -> Option<Self> {
        Some(value)
    }

    fn parse(text: &str) -> Option<Self> {
        text.parse::<f64>().ok().filter(|value| value.is_finite())
    }
}

impl Lenient for f64 {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor::<f64>(PhantomData))
    }

    fn lenient_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        deserializer.deserialize_any(OptionalNumberVisitor::<f64>(PhantomData))
    }
}

struct BoolVisitor;

impl BoolVisitor {
    fn parse(text: &str) -> Option<bool> {
        let text = text.trim();
        if ["true", "1", "yes", "y", "t"].iter().any(|word| text.eq_ignore_ascii_case(word)) {
            Some(true)
        } else if ["false", "0", "no", "n", "f"].iter().any(|word| text.eq_ignore_ascii_case(word)) {
            Some(false)
        } else {
            None
        }
    }
}

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean (true/false, \"true\"/\"false\", 1/0)")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<bool, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<bool, E> {
        match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::custom("expected a boolean, found a number other than 0 or 1")),
        }
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<bool, E> {
        match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::custom("expected a boolean, found a number other than 0 or 1")),
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<bool, E> {
        Self::parse(value).ok_or_else(|| E::custom("expected a boolean, found a string that is not true/false/1/0"))
    }
}

struct OptionalBoolVisitor;

impl Visitor<'_> for OptionalBoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        BoolVisitor.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Option<bool>, E> {
        Ok(Some(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Option<bool>, E> {
        BoolVisitor.visit_u64(value).map(Some)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Option<bool>, E> {
        BoolVisitor.visit_i64(value).map(Some)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Option<bool>, E> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        BoolVisitor.visit_str(value).map(Some)
    }
}

impl Lenient for bool {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BoolVisitor)
    }

    fn lenient_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        deserializer.deserialize_any(OptionalBoolVisitor)
    }
}

struct VecVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for VecVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // Cap the pre-allocation: the hint comes from the peer.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(LenientSeed::<T>::new())? {
            items.push(item);
        }
        Ok(items)
    }
}

impl<T: Lenient> Lenient for Vec<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(VecVisitor(PhantomData))
    }

    fn missing() -> Option<Self> {
        Some(Vec::new())
    }
}

impl Lenient for serde_json::Value {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }

    fn missing() -> Option<Self> {
        Some(serde_json::Value::Null)
    }

    fn is_absent(&self) -> bool {
        self.is_null()
    }
}

/// Reads an enum's wire value without allocating for known values: strings, numbers and booleans
/// are matched through `from_wire`. With `optional`, `null` and `""` read as `None`.
pub fn lenient_enum<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    from_wire: fn(&str) -> T,
    optional: bool,
) -> Result<Option<T>, D::Error> {
    struct EnumVisitor<T> {
        from_wire: fn(&str) -> T,
        optional: bool,
    }

    impl<T> Visitor<'_> for EnumVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Option<T>, E> {
            if self.optional && value.trim().is_empty() {
                return Ok(None);
            }
            Ok(Some((self.from_wire)(value)))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Option<T>, E> {
            Ok(Some((self.from_wire)(&value.to_string())))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Option<T>, E> {
            Ok(Some((self.from_wire)(&value.to_string())))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Option<T>, E> {
            Ok(Some((self.from_wire)(&value.to_string())))
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<Option<T>, E> {
            Ok(Some((self.from_wire)(if value { "true" } else { "false" })))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            if self.optional { Ok(None) } else { Err(E::invalid_type(de::Unexpected::Unit, &self)) }
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            self.visit_unit()
        }
    }

    deserializer.deserialize_any(EnumVisitor { from_wire, optional })
}

/// Parses a whole document, and on failure parses it again to say which field failed.
///
/// The fast path is one pass of `serde_json`; only a failing document pays for the second,
/// path-tracking pass. The document's UTF-8 is checked once, and a valid one is parsed as text:
/// `serde_json` then skips its check of every string and key, which makes parsing a scan detail
/// about 1.5x faster (`docs/benchmarks.md`, P4). A document that is not UTF-8 is parsed as bytes,
/// whose error says where it breaks.
pub fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, FieldError> {
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str::<T>(text),
        Err(_) => serde_json::from_slice::<T>(bytes),
    };
    match parsed {
        Ok(value) => Ok(value),
        Err(first) => {
            let mut deserializer = serde_json::Deserializer::from_slice(bytes);
            let path = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
                Err(error) => {
                    let path = error.path().to_string();
                    (path != "." && path != "?" && !first.is_syntax() && !first.is_eof()).then_some(path)
                }
                Ok(_) => None,
            };
            Err(FieldError {
                path,
                message: scrub_message(&first.to_string()),
                is_syntax: first.is_syntax() || first.is_eof(),
            })
        }
    }
}

/// Where and why a document failed to parse. The message never quotes the offending value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The path of the failing field (`assets[2].vulnerabilities[0].score`), if known.
    pub path: Option<String>,
    /// What went wrong, with quoted values removed.
    pub message: String,
    /// Whether the body is not JSON at all (or is cut short), as opposed to a field of the wrong
    /// shape.
    pub is_syntax: bool,
}

/// Removes quoted values from a serde message, so that a decode error never repeats what the
/// server sent (which could be a token or customer data).
pub(crate) fn scrub_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for ch in message.chars() {
        if ch == '"' {
            if in_quotes {
                out.push_str("\"…\"");
            }
            in_quotes = !in_quotes;
        } else if !in_quotes {
            out.push(ch);
        }
    }
    out
}

/// What a `model!` declares, as data: the input of code generators (`cargo xtask codegen` writes
/// the Python classes from it). Each model has one, as its associated constant `SCHEMA`; the
/// registry of all of them is [`crate::types::MODELS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSchema {
    /// The struct's name.
    pub name: &'static str,
    /// The struct's doc comment, one line per `///` line (each keeps its leading space).
    pub doc: &'static str,
    /// The declared fields, in declaration order (`extra` is not listed).
    pub fields: &'static [FieldSchema],
}

/// One declared field of a [`ModelSchema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSchema {
    /// The Rust field name (the Python attribute name).
    pub name: &'static str,
    /// The field's Rust type as written in the declaration (`Option<String>`).
    pub rust_type: &'static str,
    /// The primary wire key (written when serializing).
    pub wire: &'static str,
    /// Other accepted spellings of the key.
    pub aliases: &'static [&'static str],
    /// The field's doc comment, one line per `///` line.
    pub doc: &'static str,
}

/// What a `wire_enum!` declares, as data (see [`ModelSchema`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumSchema {
    /// The enum's name.
    pub name: &'static str,
    /// The enum's doc comment, one line per `///` line.
    pub doc: &'static str,
    /// The wire value of every known variant, in declaration order.
    pub values: &'static [&'static str],
}

impl EnumSchema {
    /// Whether every known wire value is a number (the enum is a numeric code on the wire).
    pub fn is_numeric(&self) -> bool {
        self.values.iter().all(|value| !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()))
    }
}

/// Declares a wire model: a struct with public fields, a liberal single-pass `Deserialize`, a
/// `Serialize` that writes known fields under their primary wire name followed by `extra`, and
/// [`Lenient`].
///
/// Each field names its primary wire key and, after `|`, any alternative spellings. Keys are
/// matched exactly first, then ASCII case-insensitively. The model and its fields take doc
/// comments only (no other attributes): they also become the model's [`ModelSchema`] (`SCHEMA`).
macro_rules! model {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $fdoc:literal])*
                pub $field:ident : $ty:ty => $wire:literal $(| $alias:literal)*
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $ty, )*
            /// Fields the server sent that this model does not know, kept verbatim.
            pub extra: $crate::wire::Extra,
        }

        impl $name {
            /// What this model declares (name, docs, fields), for code generators.
            pub const SCHEMA: $crate::wire::ModelSchema = $crate::wire::ModelSchema {
                name: stringify!($name),
                doc: concat!($($doc, "\n",)*),
                fields: &[$(
                    $crate::wire::FieldSchema {
                        name: stringify!($field),
                        rust_type: stringify!($ty),
                        wire: $wire,
                        aliases: &[$($alias),*],
                        doc: concat!($($fdoc, "\n",)*),
                    },
                )*],
            };
        }

        const _: () = {
            use ::serde::de::Error as _;
            use ::serde::ser::SerializeMap as _;

            #[allow(non_camel_case_types)]
            enum __Field { $($field,)* }

            #[allow(non_camel_case_types)]
            #[derive(Default)]
            struct __Slots { $($field: Option<$ty>,)* }

            fn __field(key: &str) -> Option<__Field> {
                match key {
                    $( $wire $(| $alias)* => return Some(__Field::$field), )*
                    _ => {}
                }
                $(
                    if key.eq_ignore_ascii_case($wire) $(|| key.eq_ignore_ascii_case($alias))* {
                        return Some(__Field::$field);
                    }
                )*
                None
            }

            struct __Visitor;

            impl<'de> ::serde::de::Visitor<'de> for __Visitor {
                type Value = $name;

                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                }

                fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                    let mut slots = __Slots::default();
                    let mut extra = $crate::wire::Extra::new();
                    while let Some(key) = map.next_key_seed($crate::wire::KeySeed(__field))? {
                        match key {
                            $(
                                $crate::wire::Key::Known(__Field::$field) => {
                                    slots.$field = Some(map.next_value_seed($crate::wire::LenientSeed::<$ty>::new())?);
                                }
                            )*
                            $crate::wire::Key::Unknown(key) => {
                                let value: ::serde_json::Value = map.next_value()?;
                                extra.insert(key, value);
                            }
                        }
                    }
                    Ok($name {
                        $(
                            $field: match slots.$field {
                                Some(value) => value,
                                None => <$ty as $crate::wire::Lenient>::missing()
                                    .ok_or_else(|| A::Error::missing_field($wire))?,
                            },
                        )*
                        extra,
                    })
                }
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    deserializer.deserialize_map(__Visitor)
                }
            }

            impl ::serde::Serialize for $name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let mut map = serializer.serialize_map(None)?;
                    $(
                        if !$crate::wire::Lenient::is_absent(&self.$field) {
                            map.serialize_entry($wire, &self.$field)?;
                        }
                    )*
                    for (key, value) in &self.extra {
                        map.serialize_entry(key, value)?;
                    }
                    map.end()
                }
            }

            impl $crate::wire::Lenient for $name {
                fn deserialize_lenient<'de, D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    <Self as ::serde::Deserialize>::deserialize(deserializer)
                }
            }
        };
    };
}

pub(crate) use model;

/// Declares a wire enum with an `Unknown(String)` fallback.
///
/// Parsing trims and compares case-insensitively against the wire value and any aliases, and
/// accepts numbers for numeric wire values. `""` in an optional field reads as `None`.
/// Serializing writes the wire value: as a JSON number when it is all digits, else a string.
/// The enum takes doc comments only; they also become its [`EnumSchema`] (`SCHEMA`).
macro_rules! wire_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal $(| $alias:literal)*
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every known variant, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// What this enum declares (name, docs, wire values), for code generators.
            pub const SCHEMA: $crate::wire::EnumSchema = $crate::wire::EnumSchema {
                name: stringify!($name),
                doc: concat!($($doc, "\n",)*),
                values: &[$($wire),*],
            };

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Unknown(value) => value,
                }
            }

            /// Reads a wire value liberally (trimmed, case-insensitive, aliases accepted).
            pub fn from_wire(value: &str) -> Self {
                let trimmed = value.trim();
                $(
                    if trimmed.eq_ignore_ascii_case($wire) $(|| trimmed.eq_ignore_ascii_case($alias))* {
                        return $name::$variant;
                    }
                )*
                $name::Unknown(value.to_owned())
            }

            /// Whether this is a value the library does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, $name::Unknown(_))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::Unknown(String::new())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let text = self.as_str();
                match text.parse::<u64>() {
                    // Only a canonical number (no sign, no leading zero): `"007"` stays a string,
                    // so that an unknown value survives a round trip (found by fuzzing).
                    Ok(number) if number.to_string() == text => serializer.serialize_u64(number),
                    _ => serializer.serialize_str(text),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::wire::lenient_enum(deserializer, Self::from_wire, false)?
                    .ok_or_else(|| <D::Error as ::serde::de::Error>::custom("expected a value"))
            }
        }

        impl $crate::wire::Lenient for $name {
            fn deserialize_lenient<'de, D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <Self as ::serde::Deserialize>::deserialize(deserializer)
            }

            fn lenient_option<'de, D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
                $crate::wire::lenient_enum(deserializer, Self::from_wire, true)
            }
        }
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_quoted_values() {
        assert_eq!(
            scrub_message("invalid type: string \"secret-token\", expected u64 at line 1 column 9"),
            "invalid type: string \"…\", expected u64 at line 1 column 9"
        );
        assert_eq!(scrub_message("missing field `scan_id`"), "missing field `scan_id`");
    }

    #[test]
    fn floats_near_the_integer_limits_fit_exactly_or_not_at_all() {
        // Counts of real models near 2^64: `tests/it/instances.rs`.
        assert_eq!(<i64 as LenientNumber>::from_f64(2.0_f64.powi(63)), None);
        assert_eq!(<i64 as LenientNumber>::from_f64(-(2.0_f64.powi(63))), Some(i64::MIN));
        assert_eq!(<u32 as LenientNumber>::from_f64(4294967295.0), Some(u32::MAX));
        assert_eq!(<u32 as LenientNumber>::from_f64(4294967296.0), None);
    }
}

/// A boolean that the contract sends as the string `"true"` or `"false"` (the user's `enabled`).
/// It reads liberally and writes the string form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TextBool(pub bool);

impl TextBool {
    /// The boolean value.
    pub fn get(self) -> bool {
        self.0
    }
}

impl From<bool> for TextBool {
    fn from(value: bool) -> Self {
        Self(value)
    }
}

impl serde::Serialize for TextBool {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0 { "true" } else { "false" })
    }
}

impl<'de> serde::Deserialize<'de> for TextBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        bool::deserialize_lenient(deserializer).map(Self)
    }
}

impl Lenient for TextBool {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        bool::deserialize_lenient(deserializer).map(Self)
    }

    fn lenient_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        bool::lenient_option(deserializer).map(|value| value.map(Self))
    }
}

/// Reads a body that should be a JSON array, also accepting a single object (a liberal reading
/// of "single lookups return one-element arrays").
pub fn one_or_many<T: Lenient>(bytes: &[u8]) -> Result<Vec<T>, FieldError> {
    let trimmed = bytes.iter().position(|byte| !byte.is_ascii_whitespace()).map(|start| bytes[start]);
    if trimmed == Some(b'{') {
        return from_slice_seed::<T>(bytes).map(|item| vec![item]);
    }
    from_slice_seed::<Vec<T>>(bytes)
}

/// Like [`from_slice`], for any [`Lenient`] type.
pub fn from_slice_seed<T: Lenient>(bytes: &[u8]) -> Result<T, FieldError> {
    struct Wrapper<T>(T);
    impl<'de, T: Lenient> serde::Deserialize<'de> for Wrapper<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            T::deserialize_lenient(deserializer).map(Wrapper)
        }
    }
    from_slice::<Wrapper<T>>(bytes).map(|wrapper| wrapper.0)
}

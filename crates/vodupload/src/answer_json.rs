//! Decoding an answer's JSON without building a tree of the part list.
//!
//! A resume of a 50 GiB file at 512 KiB parts lists 100,000 parts: as a `serde_json::Value` tree
//! that is about 80 MB (a map, three keys and a string per part), ten times the answer's size. So
//! the top-level object is read key by key: `listParts` goes straight into compact entries, every
//! other field into an ordinary map. Anything that is not the expected shape is recorded, not
//! refused here, so the protocol layer can say what was wrong in its own words.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A whole answer body.
pub(crate) enum Top {
    Object(RawAnswer),
    /// Valid JSON of another type (an array, a string...).
    NotObject,
}

/// The top-level object, with `listParts` decoded apart.
pub(crate) struct RawAnswer {
    pub(crate) fields: Map<String, Value>,
    pub(crate) list_parts: ListPartsField,
}

/// What `listParts` held.
#[derive(Debug, Clone, Default)]
pub(crate) enum ListPartsField {
    /// Missing or null.
    #[default]
    Absent,
    Parts(Vec<WireEntry>),
    NotArray,
}

/// One `listParts` entry as sent, before any rule is applied.
#[derive(Debug, Clone)]
pub(crate) struct WireEntry {
    /// False when the entry is not a JSON object.
    pub(crate) is_object: bool,
    pub(crate) offset: Option<Scalar>,
    pub(crate) data_size: Option<Scalar>,
    pub(crate) data_md5: Option<Scalar>,
}

/// A JSON value reduced to what the protocol's fields can be: an integer or a string (gateways
/// send numbers as strings and ids as numbers), or something else.
#[derive(Debug, Clone)]
pub(crate) enum Scalar {
    Int(i64),
    Str(String),
    Other,
}

impl Scalar {
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Other => None,
        }
    }

    pub(crate) fn into_string(self) -> Option<String> {
        match self {
            Scalar::Int(n) => Some(n.to_string()),
            Scalar::Str(s) => Some(s),
            Scalar::Other => None,
        }
    }
}

/// The `visit_*` methods of JSON's scalar types but null, each answering `$value`: an unexpected
/// shape is recorded, never an error at this level.
macro_rules! scalars_are {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                let mut fields = Map::new();
                let mut list_parts = ListPartsField::Absent;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "listParts" {
                        list_parts = map.next_value()?;
                    } else {
                        fields.insert(key, map.next_value()?);
                    }
                }
                Ok(Top::Object(RawAnswer { fields, list_parts }))
            }
            scalars_are!(Top::NotObject);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Top::NotObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
                Ok(Top::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for ListPartsField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ListPartsField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of parts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(entry) = seq.next_element::<WireEntry>()? {
                    parts.push(entry);
                }
                Ok(ListPartsField::Parts(parts))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ListPartsField::Absent)
            }
            scalars_are!(ListPartsField::NotArray);
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ListPartsField::NotArray)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for WireEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const NOT_OBJECT: WireEntry = WireEntry {
            is_object: false,
            offset: None,
            data_size: None,
            data_md5: None,
        };
        impl<'de> Visitor<'de> for V {
            type Value = WireEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a part object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireEntry, A::Error> {
                let mut e = WireEntry {
                    is_object: true,
                    ..NOT_OBJECT
                };
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "offset" => &mut e.offset,
                        "dataSize" => &mut e.data_size,
                        "dataMd5" => &mut e.data_md5,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value()?);
                }
                Ok(e)
            }
            scalars_are!(NOT_OBJECT);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WireEntry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(NOT_OBJECT)
            }
            fn visit_unit<E: de::Error>(self) -> Result<WireEntry, E> {
                Ok(NOT_OBJECT)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(n).map_or(Scalar::Other, Scalar::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(s))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

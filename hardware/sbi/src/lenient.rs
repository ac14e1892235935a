//! Readers that take a number or a string, and a writer that writes a string: devices send
//! counts, scores and sub ids either way.

use serde::{Deserialize, Deserializer, Serializer, de::Error};

use crate::model::BioSubType;

#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Float(f64),
    Text(String),
}

impl Number {
    fn value(self) -> Result<f64, String> {
        match self {
            Number::Int(i) => Ok(i as f64),
            Number::Float(f) => Ok(f),
            Number::Text(s) => s.trim().parse::<f64>().map_err(|_| format!("'{}' is not a number", clip(&s))),
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(20).collect()
}

fn whole<'de, D: Deserializer<'de>>(d: D, max: u64) -> Result<u64, D::Error> {
    let v = Number::deserialize(d)?.value().map_err(D::Error::custom)?;
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > max as f64 {
        return Err(D::Error::custom(format!("{v} is not a whole number from 0 to {max}")));
    }
    Ok(v as u64)
}

pub fn u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    whole(d, u8::MAX as u64).map(|v| v as u8)
}

pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(d, u32::MAX as u64).map(|v| v as u32)
}

pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    whole(d, u64::MAX >> 11)
}

pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = Number::deserialize(d)?.value().map_err(D::Error::custom)?;
    if !v.is_finite() {
        return Err(D::Error::custom("not a finite number"));
    }
    Ok(v)
}

pub fn u32_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let items = Option::<Vec<Number>>::deserialize(d)?.unwrap_or_default();
    items
        .into_iter()
        .map(|n| {
            let v = n.value().map_err(D::Error::custom)?;
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
                Ok(v as u32)
            } else {
                Err(D::Error::custom(format!("{v} is not a sub id")))
            }
        })
        .collect()
}

pub fn code<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Code {
        Int(i64),
        Text(String),
    }
    Ok(match Option::<Code>::deserialize(d)? {
        Some(Code::Int(i)) => i.to_string(),
        Some(Code::Text(s)) => s.trim().to_string(),
        None => String::new(),
    })
}

pub fn sub_type<'de, D: Deserializer<'de>>(d: D) -> Result<BioSubType, D::Error> {
    let name = Option::<String>::deserialize(d)?.unwrap_or_default();
    BioSubType::from_name(name.trim())
        .ok_or_else(|| D::Error::custom(format!("'{}' is not a bioSubType", name.chars().take(40).collect::<String>())))
}

pub fn as_string<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

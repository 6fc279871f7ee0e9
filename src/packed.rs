//! The compact form in which a service keeps a device's state while no call of the device runs
//! (feature `service`): a format byte, then lengths as varints, strings as length and bytes,
//! times as little-endian `i64`. [`unpack`] reads only what [`pack`] writes and refuses
//! anything else.

use crate::model::{Attribute, Mvpd, Profile, ProfileType, TempPassInfo};
use crate::sso::IdentityKeys;
use std::collections::{BTreeMap, HashMap};

/// The Permits cached by preauthorization: (MVPD, resource) → end of validity (ms).
pub(crate) type Permits = HashMap<(String, String), i64>;

/// The live form's content.
#[derive(PartialEq)]
pub(crate) struct Unpacked {
    pub profiles: Vec<Profile>,
    pub checked: Option<IdentityKeys>,
    pub permits: Permits,
    pub selected: Option<Mvpd>,
}

impl Unpacked {
    pub fn valid_until(&self, now_ms: i64) -> Option<i64> {
        self.profiles
            .iter()
            .map(|p| p.not_after_ms)
            .chain(self.permits.values().copied())
            .filter(|t| *t > now_ms)
            .max()
    }
}

const FORMAT: u8 = 1;

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn pack(d: &Unpacked) -> Box<[u8]> {
    let mut out = Vec::with_capacity(128);
    out.push(FORMAT);
    put_len(&mut out, d.profiles.len());
    for p in &d.profiles {
        put_str(&mut out, &p.mvpd);
        put_i64(&mut out, p.not_before_ms);
        put_i64(&mut out, p.not_after_ms);
        put_str(&mut out, &p.issuer);
        match &p.profile_type {
            ProfileType::Regular => out.push(0),
            ProfileType::Degraded => out.push(1),
            ProfileType::Temporary => out.push(2),
            ProfileType::AppleSso => out.push(3),
            ProfileType::PlatformSso => out.push(4),
            ProfileType::ServiceTokenSso => out.push(5),
            ProfileType::Other(t) => {
                out.push(6);
                put_str(&mut out, t);
            }
        }
        put_len(&mut out, p.attributes.len());
        for (name, a) in &p.attributes {
            put_str(&mut out, name);
            put_str(&mut out, &a.value);
            out.push(u8::from(a.encrypted));
        }
        match &p.temp_pass {
            None => out.push(0),
            Some(t) => {
                out.push(1);
                match t.expiration_ms {
                    Some(v) => {
                        out.push(1);
                        put_i64(&mut out, v);
                    }
                    None => out.push(0),
                }
                match t.remaining_resources {
                    Some(v) => {
                        out.push(1);
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                    None => out.push(0),
                }
                put_len(&mut out, t.used_assets.len());
                for a in &t.used_assets {
                    put_str(&mut out, a);
                }
            }
        }
    }
    match &d.checked {
        None => out.push(0),
        Some(k) => {
            out.push(1);
            for part in k.parts() {
                put_opt_str(&mut out, part);
            }
        }
    }
    put_len(&mut out, d.permits.len());
    for ((mvpd, resource), until) in &d.permits {
        put_str(&mut out, mvpd);
        put_str(&mut out, resource);
        put_i64(&mut out, *until);
    }
    let selected = d
        .selected
        .as_ref()
        .and_then(|m| serde_json::to_string(m).ok());
    put_opt_str(&mut out, selected.as_deref());
    out.into_boxed_slice()
}

/// Reads what [`pack`] wrote; `None` for anything else.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }

    fn len(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(b)
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.bytes(n)?.to_vec()).ok()
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        match self.byte()? {
            0 => Some(None),
            1 => self.string().map(Some),
            _ => None,
        }
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
}

pub(crate) fn unpack(bytes: &[u8]) -> Option<Unpacked> {
    let mut r = Reader(bytes);
    if r.byte()? != FORMAT {
        return None;
    }
    let n = r.len()?;
    let mut profiles = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let mvpd = r.string()?;
        let not_before_ms = r.i64()?;
        let not_after_ms = r.i64()?;
        let issuer = r.string()?;
        let profile_type = match r.byte()? {
            0 => ProfileType::Regular,
            1 => ProfileType::Degraded,
            2 => ProfileType::Temporary,
            3 => ProfileType::AppleSso,
            4 => ProfileType::PlatformSso,
            5 => ProfileType::ServiceTokenSso,
            6 => ProfileType::Other(r.string()?),
            _ => return None,
        };
        let mut attributes = BTreeMap::new();
        for _ in 0..r.len()? {
            let name = r.string()?;
            let value = r.string()?;
            let encrypted = r.byte()? == 1;
            attributes.insert(name, Attribute { value, encrypted });
        }
        let temp_pass = match r.byte()? {
            0 => None,
            1 => {
                let expiration_ms = match r.byte()? {
                    0 => None,
                    _ => Some(r.i64()?),
                };
                let remaining_resources = match r.byte()? {
                    0 => None,
                    _ => Some(u32::from_le_bytes(r.bytes(4)?.try_into().ok()?)),
                };
                let mut used_assets = Vec::new();
                for _ in 0..r.len()? {
                    used_assets.push(r.string()?);
                }
                Some(TempPassInfo {
                    expiration_ms,
                    remaining_resources,
                    used_assets,
                })
            }
            _ => return None,
        };
        profiles.push(Profile {
            mvpd,
            not_before_ms,
            not_after_ms,
            issuer,
            profile_type,
            attributes,
            temp_pass,
        });
    }
    let checked = match r.byte()? {
        0 => None,
        1 => Some(IdentityKeys::from_parts([
            r.opt_string()?,
            r.opt_string()?,
            r.opt_string()?,
        ])),
        _ => return None,
    };
    let mut permits = HashMap::new();
    for _ in 0..r.len()? {
        let mvpd = r.string()?;
        let resource = r.string()?;
        permits.insert((mvpd, resource), r.i64()?);
    }
    let selected = r
        .opt_string()?
        .and_then(|json| serde_json::from_str::<Mvpd>(&json).ok());
    r.0.is_empty().then_some(Unpacked {
        profiles,
        checked,
        permits,
        selected,
    })
}

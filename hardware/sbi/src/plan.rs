//! What to ask a device for: the capture request of one device, the slaps of a ten-print for a
//! person with missing fingers, the eyes left out, the exceptions recorded in their place, and
//! the quality asked of every capture.

use serde::{Deserialize, Serialize};

use crate::messages::{BioRequest, CaptureRequest};
use crate::model::{BioSubType, Modality};
use crate::{DEFAULT_CAPTURE_TIMEOUT_MS, ENV, FIRST_PREVIOUS_HASH, PURPOSE_REGISTRATION, SPEC_VERSION};

/// A registration capture request for one device: `count` fingers or eyes (1 for a face or a
/// signature) of sub-device `sub_id`, leaving out `exceptions`.
///
/// For fingers and irises the sub-types asked for are those of the sub-device
/// ([`BioSubType::of_sub_device`]) less the exceptions, and only exceptions of that modality are
/// sent; for a face the exceptions are sent whole (the face is then an exception photo). The
/// request starts a transaction ([`FIRST_PREVIOUS_HASH`]); chain later ones with
/// [`CaptureRequest::after`], and name the time with [`CaptureRequest::at`].
pub fn capture_request(
    modality: Modality,
    count: u32,
    exceptions: &[BioSubType],
    transaction_id: &str,
    requested_score: u8,
    device_id: &str,
    sub_id: u32,
) -> CaptureRequest {
    let (bio_sub_type, exception) = match modality {
        Modality::Finger | Modality::Iris => {
            let exception: Vec<BioSubType> =
                dedup(exceptions.iter().copied().filter(|e| e.modality() == Some(modality)).collect());
            let asked = BioSubType::of_sub_device(modality, sub_id)
                .iter()
                .copied()
                .filter(|s| !exception.contains(s))
                .collect();
            (asked, exception)
        }
        Modality::Face => (Vec::new(), dedup(exceptions.iter().copied().filter(|e| e.modality().is_some()).collect())),
        Modality::Signature => (vec![BioSubType::Unknown], Vec::new()),
    };
    CaptureRequest {
        env: ENV.to_string(),
        purpose: PURPOSE_REGISTRATION.to_string(),
        spec_version: SPEC_VERSION.to_string(),
        timeout: DEFAULT_CAPTURE_TIMEOUT_MS,
        capture_time: String::new(),
        transaction_id: transaction_id.to_string(),
        bio: vec![BioRequest {
            modality,
            count,
            bio_sub_type,
            exception,
            requested_score: requested_score.min(100),
            device_id: device_id.to_string(),
            device_sub_id: sub_id,
            previous_hash: FIRST_PREVIOUS_HASH.to_string(),
        }],
    }
}

fn dedup(mut v: Vec<BioSubType>) -> Vec<BioSubType> {
    v.sort();
    v.dedup();
    v
}

/// One slap of a ten-print capture: the sub-device, how many fingers it takes, and the
/// exceptions to send with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlapPlan {
    /// 1 left slap, 2 right slap, 3 thumbs.
    pub sub_id: u32,
    /// Fingers to capture.
    pub count: u32,
    /// Fingers of this slap that cannot be captured.
    pub exceptions: Vec<BioSubType>,
}

/// Why a finger (or an eye) is not captured: the exception recorded in its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionReason {
    /// Missing or amputated: permanent.
    Missing,
    /// Injured or bandaged: temporary; the person may be asked to come back.
    Injured,
}

impl ExceptionReason {
    /// Every reason, in the order forms list them.
    pub const ALL: [ExceptionReason; 2] = [ExceptionReason::Missing, ExceptionReason::Injured];

    /// Stable code, as the record keeps it.
    pub fn code(self) -> &'static str {
        match self {
            ExceptionReason::Missing => "missing",
            ExceptionReason::Injured => "injured",
        }
    }

    /// From [`ExceptionReason::code`].
    pub fn from_code(code: &str) -> Option<ExceptionReason> {
        ExceptionReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The slaps of a ten-print capture for a person with `missing` fingers (missing, amputated,
/// bandaged): each slap carries its own exceptions, and a slap whose fingers are all missing is
/// left out. Entries of `missing` that are not fingers are ignored.
pub fn finger_slaps(missing: &[BioSubType]) -> Vec<SlapPlan> {
    (1..=3)
        .filter_map(|sub_id| {
            let fingers = BioSubType::of_sub_device(Modality::Finger, sub_id);
            let exceptions: Vec<BioSubType> = fingers.iter().copied().filter(|f| missing.contains(f)).collect();
            let count = (fingers.len() - exceptions.len()) as u32;
            (count > 0).then_some(SlapPlan { sub_id, count, exceptions })
        })
        .collect()
}

/// The quality (0-100) asked of every capture; one below it is kept, shown to staff as low,
/// and worth capturing again while the applicant is there.
pub const REQUESTED_QUALITY: u8 = 40;

/// Whether a capture's quality is below what was asked.
pub fn low_quality(quality: u64) -> bool {
    quality < u64::from(REQUESTED_QUALITY)
}

/// The capture requests for `modality` on device `device_id` with sub-devices `subs` (empty:
/// the device names none): three slaps for fingerprints (without the `missing` fingers, which
/// go as the slaps' exceptions), the eyes that are not `missing` for the iris (none when both
/// are), one image otherwise. All share one `transaction`.
pub fn capture_plan(
    modality: Modality,
    device_id: &str,
    subs: &[u32],
    transaction: &str,
    missing: &[BioSubType],
) -> Vec<CaptureRequest> {
    match modality {
        Modality::Finger => finger_slaps(missing)
            .into_iter()
            .filter(|s| subs.is_empty() || subs.contains(&s.sub_id))
            .map(|s| {
                capture_request(modality, s.count, &s.exceptions, transaction, REQUESTED_QUALITY, device_id, s.sub_id)
            })
            .collect(),
        Modality::Iris => {
            let wanted: Vec<BioSubType> = BioSubType::IRISES.into_iter().filter(|e| !missing.contains(e)).collect();
            if wanted.is_empty() {
                return Vec::new();
            }
            let subs: Vec<u32> = if subs.is_empty() { vec![0] } else { subs.to_vec() };
            let eyes_of = |sub: u32| BioSubType::of_sub_device(modality, sub);
            // Both eyes in one request where one sub-device takes them (the missing eye goes as
            // its exception), else one request per eye on that eye's own sub-device.
            let both = [3, 0]
                .into_iter()
                .chain(subs.iter().copied())
                .find(|s| subs.contains(s) && wanted.iter().all(|e| eyes_of(*s).contains(e)));
            match both {
                Some(sub) => {
                    let exceptions: Vec<BioSubType> =
                        eyes_of(sub).iter().copied().filter(|e| missing.contains(e)).collect();
                    let count = wanted.len() as u32;
                    vec![capture_request(modality, count, &exceptions, transaction, REQUESTED_QUALITY, device_id, sub)]
                }
                None => wanted
                    .iter()
                    .filter_map(|eye| subs.iter().copied().find(|s| eyes_of(*s) == [*eye]))
                    .map(|sub| capture_request(modality, 1, &[], transaction, REQUESTED_QUALITY, device_id, sub))
                    .collect(),
            }
        }
        Modality::Face | Modality::Signature => {
            vec![capture_request(
                modality,
                1,
                &[],
                transaction,
                REQUESTED_QUALITY,
                device_id,
                subs.first().copied().unwrap_or(0),
            )]
        }
    }
}

/// Whether every finger (or both eyes) of `modality` is among the `missing`: nothing is left
/// to capture, only the exceptions to record. Always false for a face or a signature.
pub fn nothing_to_capture(modality: Modality, missing: &[BioSubType]) -> bool {
    modality.has_parts() && BioSubType::of_sub_device(modality, 0).iter().all(|p| missing.contains(p))
}

/// The finger exceptions for a person with `missing` fingers, in the order of
/// [`BioSubType::FINGERS`] (for a one-shot ten-print request or a face exception photo).
pub fn finger_exceptions(missing: &[BioSubType]) -> Vec<BioSubType> {
    BioSubType::FINGERS.into_iter().filter(|f| missing.contains(f)).collect()
}

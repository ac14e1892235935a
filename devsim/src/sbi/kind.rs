//! The kinds of device the SBI simulator offers.

/// What a simulated device captures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimKind {
    /// A camera for the face photo.
    Face,
    /// A fingerprint slap scanner.
    Finger,
    /// An iris camera.
    Iris,
    /// A signature pad.
    Signature,
}

impl SimKind {
    /// The SBI `type`.
    pub fn name(self) -> &'static str {
        match self {
            SimKind::Face => "Face",
            SimKind::Finger => "Finger",
            SimKind::Iris => "Iris",
            SimKind::Signature => "Signature",
        }
    }
}

//! Any bytes given to the sync message decoder: it answers with a message or an error, never a
//! panic, and a message it accepts encodes back to something it accepts again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simpul_sync::protocol::{decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data) {
        let again = encode(&message);
        assert_eq!(decode(&again).ok(), Some(message));
    }
});

//! Pieces shared by the pages: the layout and session context, the language switch, the hub
//! link banner, error messages.

pub mod errors;
pub mod lang;
pub mod layout;
pub mod link;

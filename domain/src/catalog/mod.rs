//! The service catalog: published service standards (standar pelayanan) as typed records, and
//! the importer that reads them from the text the regencies publish.

mod completion;
mod import;
mod model;

pub use completion::{Completion, CompletionTime, parse_completion_time};
pub use import::{ImportError, ImportErrorKind, ImportWarning, Imported, MAX_STANDARD_BYTES, import_standard};
pub use model::{
    ComplaintChannel, ContactKind, Fee, FeeKind, IssuingOffice, ProcedureStep, Requirement, Section, ServiceKind,
    ServiceStandard,
};

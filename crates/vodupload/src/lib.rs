//! vodupload: put large videos into the VOD service with its server-side chunked upload protocol
//! (InitUpload → UploadPart × N → FinishUpload), with resume, retries and bounded memory.

pub mod error;
pub mod plan;
pub mod signature;

pub use error::{Error, ErrorKind, Result, ServerError};
pub use plan::{Part, PartPlan};
pub use signature::SignatureMethod;

//! The HTTP/1.1 server the protocol runs on, written for this emulator so that every answer on
//! the API path can be the protocol's JSON (whatever bytes the request line holds), errors are
//! answered before a body is read, and no client can hold a connection without sending.

pub(crate) mod body;
pub(crate) mod conn_table;
mod connection;
mod head;
mod io;
mod response;
mod server;

pub(crate) use body::{BodyError, BodyLimits};
pub(crate) use connection::{Outcome, Request};
pub(crate) use head::Head;
pub(crate) use response::{RespBody, Response};
pub(crate) use server::serve;

//! The entities of the example application.

pub mod post;
pub mod user;

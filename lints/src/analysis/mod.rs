//! The shared vocabulary of the lints (rule catalogue, "Shared vocabulary"): path
//! resolution, spawn sites and handles, cancellation sources, loop exits, `select!`
//! parsing, test code, the per-file facts and the crate-wide join.

pub mod cancel;
pub mod channels;
pub mod consts;
pub mod exits;
pub mod facts;
pub mod guards;
pub mod handlers;
pub mod handles;
pub mod http;
pub mod idents;
pub mod index;
pub mod inventory;
pub mod paths;
pub mod pools;
pub mod select;
pub mod spawn;
pub mod statics;
pub mod stops;
pub mod suppress;
pub mod tasks;
pub mod testcode;
pub mod timers;
pub mod tokens;
pub mod words;

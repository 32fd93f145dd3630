//! codex-harness-mcp: a local stdio MCP server that keeps an agent's contracts, traces,
//! verification evidence, gates and project knowledge under `<project>/.codex-harness/`.
//!
//! Data flows one way: bytes → [`transport`] frames → [`protocol`] messages → [`schema`]-validated
//! arguments → [`tools`] → [`store`] → result → [`sanitize`]d, wrapped reply → bytes.
//! After start-up the process is confined by [`confine`] to the harness directory.
#![forbid(unsafe_code)]

pub mod cli;
pub mod clock;
pub mod confine;
pub mod fsck;
pub mod harness;
pub mod install;
pub mod json;
pub mod knowledge;
pub mod log;
pub mod prompts;
pub mod protocol;
pub mod resources;
pub mod sanitize;
pub mod schema;
pub mod signals;
pub mod store;
pub mod tools;
pub mod transport;

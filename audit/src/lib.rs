//! Black-box replays of every attack in the audit catalogue against the built
//! `codex-harness-mcp` release binary.
//!
//! Each replay is a plain function named after its catalogue ID. It builds a real fixture
//! (victim files, symlinks, FIFOs, hard links, back-dated mtimes), drives one or more server
//! processes over real pipes, asserts the defended outcome on the replies, the process and the
//! files, and finally the global post-conditions G1–G6 (see [`harness`]). The [`catalogue`]
//! lists them; [`runner`] runs them in parallel and renders the table.
// The audit builds and inspects fixtures with std::fs; the ban on std::fs path APIs protects
// the server crate, not this test harness.
#![allow(clippy::disallowed_methods)]

pub mod harness;

mod confinement;
mod content;
mod dropin;
mod fsck;
mod installer;
mod knowledge;
mod paths;
mod protocol;
mod round10_boundary;
mod round10_edges;
mod round10_markers;
mod round10_process;
mod round11_crash;
mod round11_scale;
mod round11_uml;
mod round12_families;
mod round12_reaper;
mod store;
mod workflow;

pub mod catalogue;
pub mod runner;

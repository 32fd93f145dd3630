//! The list of replays: one entry per catalogue ID, in catalogue order.

use crate::harness::Outcome;
use crate::{confinement, content, knowledge, paths, protocol, store, workflow};
use crate::{
    dropin, fsck, installer, round10_boundary, round10_edges, round10_markers, round10_process,
    round11_crash, round11_scale, round11_uml, round12_families, round12_reaper,
};

/// How an entry is judged.
pub enum Check {
    /// Run the replay; it passes when it returns `Ok`.
    Replay(fn() -> Outcome),
    /// The feature the entry attacks does not exist in this server; the reason is printed.
    NotApplicable(&'static str),
}

/// One catalogue entry.
pub struct Replay {
    pub id: &'static str,
    pub attack: &'static str,
    pub expected: &'static str,
    pub check: Check,
}

macro_rules! replay {
    ($id:literal, $func:path, $attack:literal, $expected:literal) => {
        Replay {
            id: $id,
            attack: $attack,
            expected: $expected,
            check: Check::Replay($func),
        }
    };
}

/// Every entry of the catalogue.
pub fn all() -> Vec<Replay> {
    vec![
        replay!(
            "PT-1",
            paths::pt_1,
            "encoded traversal in harness://contract/<id>",
            "RPC error, no outside read"
        ),
        replay!(
            "PT-2",
            paths::pt_2,
            "traversal contract_id in gate/audit/next-step",
            "treated as no contract"
        ),
        replay!(
            "PT-3",
            paths::pt_3,
            "parent_contract_id ../etc/passwd",
            "TOOLERR, nothing written"
        ),
        replay!(
            "PT-4",
            paths::pt_4,
            "traversal in eval/profile/proposal/decision ids and URIs",
            "TOOLERR / RPC error"
        ),
        replay!(
            "SC-1",
            paths::sc_1,
            "gate output_paths absolute or ../..",
            "exists=false, outOfScope, unknown"
        ),
        replay!(
            "GV-1",
            workflow::gv_1,
            "gate verdict i-cheated-haha",
            "-32602 enum error, no gate"
        ),
        replay!(
            "IO-1",
            protocol::io_1,
            "1.5 M-byte line, 1.2 M trace",
            "-32700, line dropped, session continues"
        ),
        replay!(
            "IO-2",
            protocol::io_2,
            "5 MB without newline",
            "-32700, bounded RSS, continues"
        ),
        replay!(
            "RPC-1",
            protocol::rpc_1,
            "unknown tool, bad arguments, bad envelopes",
            "-32602/-32600/-32601/-32700"
        ),
        replay!(
            "R1-7",
            protocol::r1_7,
            "schema violations",
            "-32602 with path, no side effect"
        ),
        replay!(
            "KI-1",
            knowledge::ki_1,
            "12 pipelined record_knowledge (1P and 2P)",
            "12 unique indexed items"
        ),
        replay!(
            "KI-2",
            knowledge::ki_2,
            "corrupt / wrong-shape index.json",
            "rebuilt from items"
        ),
        replay!(
            "AW-1",
            store::aw_1,
            "torn reads, EFBIG mid-write",
            "whole JSON, old bytes kept, no tmp"
        ),
        replay!(
            "OBS-1",
            workflow::obs_1,
            "gate with unchecked conditions, verdict unknown",
            "report names both"
        ),
        replay!(
            "INJ-1",
            content::inj_1,
            "instructions and forged </untrusted-data>",
            "wrapped, markers redacted"
        ),
        replay!(
            "EXEC-1",
            workflow::exec_1,
            "verification commands `touch pwned`",
            "nothing executed, exec denied"
        ),
        replay!(
            "MIG-1",
            store::mig_1,
            "legacy v1 state.json",
            "v1->v5 steps, audit log"
        ),
        replay!(
            "R2-1",
            paths::r2_1,
            "outside output paths in next_step / audit",
            "reported missing, not probed"
        ),
        replay!(
            "R2-2",
            knowledge::r2_2,
            "corrupt index then knowledge calls",
            "OK < 4 s, rebuilt"
        ),
        replay!(
            "R2-3",
            paths::r2_3,
            "traversal corpus in every id and URI kind",
            "refused, nothing outside H"
        ),
        replay!(
            "R2-4",
            knowledge::r2_4,
            "knowledge item ids with spaces/non-ASCII/traversal",
            "not found"
        ),
        replay!(
            "R2-6",
            store::r2_6,
            "symlink at index.json / state.json / traces jsonl",
            "TOOLERR, victim unchanged"
        ),
        replay!(
            "R2-PP",
            content::r2_pp,
            "__proto__ key in state.json",
            "not reflected, tools work"
        ),
        replay!(
            "R2-POL",
            workflow::r2_pol,
            "policy allowed_write_roots [\"/\"]",
            "advisory; writes only in H"
        ),
        replay!(
            "R3-1",
            store::r3_1,
            "garbage/truncated/wrong-shape state.json",
            "backed up, reset, state_recovered"
        ),
        replay!(
            "R3-2",
            store::r3_2,
            "25 concurrent traces + mixed burst",
            "no lost counter updates"
        ),
        replay!(
            "R4-1",
            knowledge::r4_1,
            "100 items with one 8 KB token",
            "< 4 KB/item, term caps"
        ),
        replay!(
            "R4-2",
            protocol::r4_2,
            "resources/list over many records",
            "paginated, terminates"
        ),
        replay!(
            "R4-3",
            protocol::r4_3,
            "huge max_results / limit / page_size",
            "clamped; 0 rejected"
        ),
        replay!(
            "R4-4",
            workflow::r4_4,
            "fs errors carrying absolute paths",
            "<project> redaction"
        ),
        replay!(
            "R4-5",
            protocol::r4_5,
            "EOF right after 50 requests, slow reader",
            "all 50 answered"
        ),
        replay!(
            "R5-1",
            store::r5_1,
            "concurrent 8 KB JSONL appends (1P, 2P)",
            "every line whole"
        ),
        replay!(
            "R5-2",
            store::r5_2,
            "two concurrent migrations (1P, 2P)",
            "one backup, one applier, one log"
        ),
        replay!(
            "R5-3",
            content::r5_3,
            "ReDoS-shaped near-limit inputs",
            "each call < 2 s"
        ),
        replay!(
            "R6-1",
            workflow::r6_1,
            "1000 distinct project_path values",
            "refused, bounded memory"
        ),
        replay!(
            "R6-2",
            store::r6_2,
            "symlink swap race on state/index",
            "victim never written"
        ),
        replay!(
            "R6-3",
            paths::r6_3,
            "path-like free text parameters",
            "never opened"
        ),
        replay!(
            "R6-4",
            knowledge::r6_4,
            "1000 knowledge items then queries",
            "within budget"
        ),
        replay!(
            "R7-1",
            knowledge::r7_1,
            "many same-title records",
            "unique ids, >= 48-bit suffix"
        ),
        replay!(
            "R7-2",
            content::r7_2,
            "bidi/zero-width/BOM/U+FFFD text",
            "stripped, normal Unicode kept"
        ),
        replay!(
            "R7-3",
            content::r7_3,
            "tool vs resource contract shapes",
            "same sanitized shape"
        ),
        replay!(
            "R7-4",
            protocol::r7_4,
            "protocolVersion 99.99-bogus etc.",
            "negotiated from allow-list"
        ),
        replay!(
            "R8-1",
            workflow::r8_1,
            "cwd P, inherited PWD D, CODEX_WORKDIR",
            "writes into the pinned project"
        ),
        replay!(
            "R8-2",
            store::r8_2,
            "8 migration cycles",
            "<= 5 backups kept"
        ),
        replay!(
            "R8-3",
            workflow::r8_3,
            "eval score outside 0-1",
            "stored verbatim"
        ),
        replay!(
            "R9-H1",
            protocol::r9_h1,
            "tampered resources/list cursor",
            "first page or -32602, no crash"
        ),
        replay!(
            "R9-H2",
            knowledge::r9_h2,
            "900 K content / raw",
            "truncated to 12,000 chars"
        ),
        replay!(
            "R9-H3",
            store::r9_h3,
            "two servers mutate one project",
            "all updates kept, no locks"
        ),
        replay!(
            "R9-H3s",
            store::r9_h3s,
            "stale lock of a dead server",
            "reclaimed < 3 s"
        ),
        replay!(
            "R9-H4",
            store::r9_h4,
            "SIGKILL mid-write, orphan temps",
            "stale reaped, fresh kept, JSON whole"
        ),
        replay!(
            "R9-H4b",
            store::r9_h4b,
            "orphans in subdirs, symlinked dir",
            "reaped to depth 3, no link walk"
        ),
        replay!(
            "R9-H5",
            protocol::r9_h5,
            "cursor decoding to Infinity",
            "first page or -32602"
        ),
        replay!(
            "E5",
            confinement::e5,
            "project on a network filesystem",
            "doctor/start-up warn; fail closed"
        ),
        replay!(
            "C6",
            content::c6,
            "injection phrases / giant base64 in traces",
            "riskTier recorded"
        ),
        replay!(
            "C6-D",
            content::c6_d,
            "risky traces on a contract",
            "audit BLOCK / FLAG per contract"
        ),
        Replay {
            id: "S1",
            attack: "FTS5 operator / SQL-ish query text",
            expected: "sanitised query",
            check: Check::NotApplicable("no full-text search backend in this server"),
        },
        replay!(
            "X-1",
            store::x_1,
            "symlinked directory component",
            "TOOLERR, nothing in V"
        ),
        replay!(
            "X-2",
            store::x_2,
            "HARNESS.md symlink (live and dangling)",
            "V unchanged"
        ),
        replay!(
            "X-3",
            store::x_3,
            "state/contract symlinked to outside JSON",
            "outside content never read"
        ),
        replay!(
            "X-4",
            paths::x_4,
            "output path through in-project symlink",
            "exists=false"
        ),
        replay!(
            "X-5",
            store::x_5,
            "RENAME_EXCHANGE race on a directory component",
            "nothing in V"
        ),
        replay!(
            "X-6",
            store::x_6,
            "hard link of victim into traces / index",
            "victim unchanged"
        ),
        replay!(
            "X-7",
            paths::x_7,
            "project_path /, /proc/self/cwd, /dev/fd/0 ...",
            "refused, nothing created"
        ),
        replay!(
            "X-8",
            store::x_8,
            "FIFO / directory / device as state.json",
            "no hang, ping answered"
        ),
        replay!(
            "X-9",
            store::x_9,
            "lock path as dangling symlink/dir/FIFO, killed holder",
            "bounded time"
        ),
        replay!(
            "X-10",
            protocol::x_10,
            "10,000-level nested id / params",
            "-32700/-32600, continues"
        ),
        replay!(
            "X-11",
            protocol::x_11,
            "invalid UTF-8 on stdin",
            "-32700, next line served"
        ),
        replay!(
            "X-12",
            protocol::x_12,
            "surrogates, NUL, numeric edge cases",
            "rejected, never normalised"
        ),
        replay!(
            "X-13",
            store::x_13,
            "hostile well-formed state content",
            "normalised or recovered"
        ),
        replay!(
            "X-14",
            protocol::x_14,
            "constructor/__proto__ keys, bidi enum echo",
            "-32602, sanitised echo"
        ),
        replay!(
            "X-15",
            protocol::x_15,
            "page_size 2.5/abc/-10/0/1e9, cursor walk",
            "rejected or clamped, walk ends"
        ),
        replay!(
            "X-16",
            content::x_16,
            "tag chars, U+2060, U+00AD, fullwidth markers",
            "removed / neutralised"
        ),
        replay!(
            "X-17",
            confinement::x_17,
            "socket/exec/clone after start-up",
            "NoNewPrivs 1, Seccomp 2, EPERM"
        ),
        replay!(
            "X-18",
            confinement::x_18,
            "filesystem access outside .codex-harness",
            "EACCES"
        ),
        replay!(
            "X-19",
            confinement::x_19,
            "RLIMIT_NOFILE 32, request floods",
            "bounded, ping answered"
        ),
        replay!(
            "X-20",
            store::x_20,
            "EFBIG, EPIPE, SIGTERM mid-burst",
            "TOOLERR, clean exit, state whole"
        ),
        replay!(
            "R10-6",
            round10_process::r10_6,
            "fd 3 file, fd 4 TCP socket left open by launcher",
            "closed before start-up, peer EOF"
        ),
        replay!(
            "R10-7",
            round10_process::r10_7,
            "server started as root keeps its capabilities",
            "CapEff/CapPrm/CapBnd 0"
        ),
        replay!(
            "R10-8",
            round10_process::r10_8,
            "unknown calls EPERM; MAP_LOCKED, madvise unchecked",
            "ENOSYS default, EPERM by name"
        ),
        replay!(
            "R10-12",
            round10_edges::r10_12,
            "installer run under umask 000",
            "files 0600, directories 0700"
        ),
        replay!(
            "R10-9",
            round10_edges::r10_9,
            "client closes stdout, keeps writing requests",
            "exit 1 at the first failed reply"
        ),
        replay!(
            "R10-16",
            round10_edges::r10_16,
            "client closes the read end of stderr",
            "every reply, exit 0"
        ),
        replay!(
            "R10-10",
            round10_edges::r10_10,
            "ids 2^64+1, -0, 1e2, 1.0 and look-alikes",
            "echoed byte for byte, no collision"
        ),
        replay!(
            "R10-11",
            round10_edges::r10_11,
            "repeated method/id/name/arguments keys",
            "-32600 id null / -32602, nothing ran"
        ),
        replay!(
            "R10-2",
            round10_markers::r10_2,
            "forged closers: confusables, separators, look-alike brackets, references",
            "no marker-like text in any output"
        ),
        replay!(
            "R10-4",
            round10_markers::r10_4,
            "Node-written trace (no riskTier) with an injection phrase",
            "scanned on read, never clean"
        ),
        replay!(
            "R10-5",
            round10_markers::r10_5,
            "FIFO / hard link among knowledge items and gates",
            "listing serves the rest, names the skipped"
        ),
        replay!(
            "R10-1",
            round10_boundary::r10_1,
            "active_contract_id and planted status/activeContractId as plain lines",
            "only inside blocks in every view"
        ),
        replay!(
            "R10-3",
            round10_boundary::r10_3,
            "prompts without the evidence guidance",
            "every prompt carries the rule"
        ),
        replay!(
            "IN-1",
            installer::in_1,
            "install over project configs holding a token",
            "no copy in the project; backup under the state directory"
        ),
        replay!(
            "DI-1",
            dropin::di_1,
            "project_path through a symlink leading out of the project, vs. one to it",
            "out refused, nothing touched; the alias of the project served"
        ),
        replay!(
            "DI-2",
            dropin::di_2,
            "SIGTERM right after acknowledged knowledge records",
            "exit 0, every item in index.json itself, no residue"
        ),
        replay!(
            "FSCK-1",
            fsck::fsck_1,
            "fsck --repair over planted symlinks (one a temp name), a hard link and a FIFO",
            "each named, none followed, opened as FIFO or removed; victim intact; exit 1"
        ),
        replay!(
            "CS-1",
            round11_crash::cs_1,
            "a power cut after the first record: the new directories were never synced",
            "every mkdir synced into its parent before the reply"
        ),
        replay!(
            "CS-2",
            round11_crash::cs_2,
            "a power cut after the first append of the day: the new file's name was never synced",
            "every file an append creates has its directory synced before the reply"
        ),
        replay!(
            "KS-1",
            round11_scale::ks_1,
            "an index.json past the store's file bound (planted, or another writer's)",
            "query, record and list work; index rebuilt from the items; index.json rewritten within 1/8 of the bound"
        ),
        replay!(
            "UML-1",
            round11_uml::uml_1,
            "an empty .state.lock left by a power cut (name persisted, content not)",
            "reclaimed at once; the write succeeds in under 3 s"
        ),
        replay!(
            "UML-2",
            round11_uml::uml_2,
            "20 older gates whose random names sort after the newest gate's",
            "gates/recent lists the newest gate last; the audit sees it pass"
        ),
        replay!(
            "SIG-1",
            round12_reaper::sig_1,
            "kill allowed after confinement (signal 0 only, for the deferred temp-file reaper)",
            "a real signal to the parent is EPERM; the probe tells live from dead under confinement"
        ),
        replay!(
            "FAM-1",
            round12_families::fam_1,
            "a trace day file just under the 64 MiB read bound",
            "list, audit and traces/recent read the day from its end: the last traces, under 48 MiB peak"
        ),
    ]
}

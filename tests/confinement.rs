#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs; the rule is for the server.
//! Confinement, proven on the running kernel: the built binary's hidden
//! `__confinement-selftest` confines itself exactly as serve does, attempts each forbidden act
//! and reports; the serving process is inspected from outside; and the seccomp filter serve
//! installs is probed call by call from a thread of this test process that installed it.
//! These tests fail (never skip) when a layer is not enforced: the hosts this project is built
//! and tested on have Landlock, seccomp and openat2.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_codex-harness-mcp");

/// A fresh project directory under the system temp dir, with a README in its root (outside
/// the confined tree).
fn temp_project(tag: &str) -> PathBuf {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).expect("getrandom");
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("codex-harness-{tag}-{hex}"));
    std::fs::create_dir_all(&dir).expect("create temp project");
    std::fs::write(dir.join("README.md"), "outside the tree\n").expect("write README");
    dir
}

struct SelfTest {
    project: PathBuf,
    report: Value,
    exit_code: Option<i32>,
}

/// Runs the self-test once for this test binary (confinement cannot be undone, so it runs in
/// its own process) and shares the report.
fn selftest() -> &'static SelfTest {
    static RUN: OnceLock<SelfTest> = OnceLock::new();
    RUN.get_or_init(|| {
        let project = temp_project("selftest");
        let output = Command::new(BIN)
            .args(["__confinement-selftest", "--project"])
            .arg(&project)
            .output()
            .expect("run the self-test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "self-test did not print one JSON object ({e}); stdout: {stdout}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        SelfTest {
            project,
            report,
            exit_code: output.status.code(),
        }
    })
}

fn attempt(name: &str) -> &'static Value {
    let attempt = &selftest().report["attempts"][name];
    assert!(
        attempt.is_object(),
        "no attempt {name} in {}",
        selftest().report
    );
    attempt
}

fn assert_denied(name: &str, errors: &[&str]) {
    let attempt = attempt(name);
    assert_eq!(attempt["allowed"], false, "{name} was allowed: {attempt}");
    let error = attempt["error"].as_str().unwrap_or_default();
    assert!(
        errors.contains(&error),
        "{name}: unexpected error {attempt}"
    );
}

fn assert_allowed(name: &str) {
    let attempt = attempt(name);
    assert_eq!(attempt["allowed"], true, "{name} was denied: {attempt}");
}

fn project() -> &'static Path {
    &selftest().project
}

#[test]
fn posture_reports_every_layer_enforced() {
    let posture = &selftest().report["posture"];
    assert_eq!(posture["landlock"]["state"], "enforced", "{posture}");
    assert!(
        posture["landlock"]["abi"].as_i64().unwrap_or(0) >= 1,
        "{posture}"
    );
    assert_eq!(posture["noNewPrivs"]["state"], "enforced", "{posture}");
    assert_eq!(posture["seccomp"]["state"], "enforced", "{posture}");
    assert_eq!(
        posture["seccomp"]["defaultAction"], "errno(ENOSYS)",
        "{posture}"
    );
    assert_eq!(
        posture["seccomp"]["deniedAction"], "errno(EPERM)",
        "{posture}"
    );
    assert_eq!(posture["capabilities"]["state"], "enforced", "{posture}");
    assert_eq!(posture["openat2"], true, "{posture}");
    assert_eq!(posture["fullyEnforced"], true, "{posture}");
}

#[test]
fn selftest_passes_and_exits_zero() {
    assert_eq!(selftest().report["passed"], true, "{}", selftest().report);
    assert_eq!(selftest().exit_code, Some(0));
    // Every layer is in force here, so no act is excused by a missing one (the kernel
    // without Landlock is tests/uml/oldkernel.py's).
    assert_eq!(
        selftest().report["notEnforced"],
        json!([]),
        "{}",
        selftest().report
    );
}

#[test]
fn reading_etc_passwd_is_denied_by_landlock() {
    // EACCES (not EPERM) shows the denial is Landlock's: the probe opens with openat2, which
    // is on the allow-list.
    assert_denied("read_etc_passwd", &["EACCES"]);
}

#[test]
fn writing_next_to_the_harness_dir_is_denied_and_leaves_no_file() {
    assert_denied("write_project_root", &["EACCES"]);
    assert!(!project().join("codex-harness-selftest-escape").exists());
}

#[test]
fn writing_inside_the_harness_dir_is_allowed_and_cleaned_up() {
    assert_allowed("write_inside_harness");
    let leftovers: Vec<_> = std::fs::read_dir(project().join(".codex-harness"))
        .expect("harness dir exists")
        .collect();
    assert!(leftovers.is_empty(), "self-test left files: {leftovers:?}");
}

#[test]
fn socket_af_inet_is_denied_after_confinement() {
    assert_denied("socket_inet", &["EPERM"]);
}

#[test]
fn socket_af_inet6_is_denied_after_confinement() {
    assert_denied("socket_inet6", &["EPERM"]);
}

#[test]
fn socket_af_unix_is_denied_after_confinement() {
    assert_denied("socket_unix", &["EPERM"]);
}

#[test]
fn tcp_connect_to_a_listening_loopback_port_is_denied() {
    assert_denied("connect_tcp_loopback", &["EPERM", "EACCES"]);
}

#[test]
fn executing_bin_true_is_denied() {
    assert_denied("exec_bin_true", &["EPERM", "EACCES"]);
}

#[test]
fn a_real_signal_to_another_process_is_denied() {
    assert_denied("signal_parent", &["EPERM"]);
}

/// The one `kill` the filter keeps is the reaper's signal-0 existence probe, and it must reach
/// the kernel: `ESRCH` for an absent pid, not the filter's `EPERM`.
#[test]
fn the_reapers_liveness_probe_still_works_after_confinement() {
    assert_allowed("liveness_probe");
    let probe = attempt("liveness_probe");
    assert_eq!(probe["absentPid"], "ESRCH", "{probe}");
    assert_eq!(probe["ownProcess"], "exists", "{probe}");
}

#[test]
fn stat_of_a_project_file_outside_the_tree_still_works() {
    assert_allowed("stat_outside_tree");
    assert_eq!(attempt("stat_outside_tree")["target"], "README.md");
}

#[test]
fn getrandom_still_works_after_confinement() {
    assert_allowed("getrandom");
}

#[test]
fn proc_status_shows_no_new_privs_and_seccomp_filter_mode() {
    let status = attempt("proc_status");
    assert_eq!(status["NoNewPrivs"], "1", "{status}");
    assert_eq!(status["Seccomp"], "2", "{status}");
    let filters: i64 = status["Seccomp_filters"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(filters >= 1, "{status}");
}

#[test]
fn no_confinement_flag_applies_nothing_and_says_so() {
    let project = temp_project("noconf");
    let output = Command::new(BIN)
        .args(["__confinement-selftest", "--no-confinement", "--project"])
        .arg(&project)
        .output()
        .expect("run the self-test");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "one JSON object on stdout ({error}); status {:?}; stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    for layer in ["landlock", "seccomp", "noNewPrivs", "capabilities"] {
        assert_eq!(report["posture"][layer]["state"], "disabled", "{report}");
    }
    assert_eq!(report["posture"]["fullyEnforced"], false, "{report}");
    assert_eq!(report["attempts"], json!({}), "{report}");
    assert!(report["skipped"]
        .as_str()
        .is_some_and(|why| why.contains("--no-confinement")));
    assert_eq!(report["passed"], false);
    assert_eq!(output.status.code(), Some(1));
    let root: Vec<_> = std::fs::read_dir(&project)
        .expect("list the project")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert!(
        root.iter()
            .all(|name| name == "README.md" || name == ".codex-harness"),
        "the unconfined self-test left {root:?} in the project"
    );
}

#[test]
fn harness_dir_that_is_a_symlink_is_refused() {
    let project = temp_project("symlink");
    let elsewhere = temp_project("symlink-target");
    std::os::unix::fs::symlink(&elsewhere, project.join(".codex-harness")).expect("symlink");
    let output = Command::new(BIN)
        .args(["__confinement-selftest", "--project"])
        .arg(&project)
        .output()
        .expect("run the self-test");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains(".codex-harness"));
}

#[test]
fn doctor_reports_landlock_abi_and_project_filesystem_and_exits_zero() {
    let project = temp_project("doctor");
    let output = Command::new(BIN)
        .args(["doctor", "--project"])
        .arg(&project)
        .output()
        .expect("run doctor");
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("landlock: available, ABI "), "{report}");
    assert!(
        report.contains("seccomp: filter mode available"),
        "{report}"
    );
    assert!(report.contains("openat2: available"), "{report}");
    assert!(report.contains("project filesystem: "), "{report}");
    assert!(report.contains("full confinement is possible"), "{report}");
}

#[test]
fn require_confinement_starts_on_a_fully_confinable_host() {
    let project = temp_project("required");
    let output = Command::new(BIN)
        .args([
            "__confinement-selftest",
            "--require-confinement",
            "--project",
        ])
        .arg(&project)
        .output()
        .expect("run the self-test");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["posture"]["fullyEnforced"], true);
}

#[test]
fn plain_openat_is_refused_with_eperm() {
    // Every open of the server is openat2 beneath the harness fd; plain openat is denied.
    assert_denied("plain_openat", &["EPERM"]);
}

#[test]
fn an_unlisted_harmless_syscall_gets_enosys_not_eperm() {
    assert_denied("unlisted_syscall_getsid", &["ENOSYS"]);
}

#[test]
fn proc_status_shows_every_capability_set_empty() {
    let status = attempt("proc_status");
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(status[set], "0000000000000000", "{set}: {status}");
    }
    if launcher_may_empty_the_bounding_set() {
        assert_eq!(status["CapBnd"], "0000000000000000", "{status}");
    }
}

/// The test runner's own `/proc/self/status` line for `field`, as a bit mask.
fn own_capabilities(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    u64::from_str_radix(line.trim(), 16).expect("a hexadecimal mask")
}

/// Whether a child of this test starts with `CAP_SETPCAP` (bit 8) in its effective set: the
/// only condition under which it can empty its bounding set. True when the tests run as root.
fn launcher_may_empty_the_bounding_set() -> bool {
    own_capabilities("CapEff:") & (1 << 8) != 0
}

/// A serving process over real pipes, initialised; killed when dropped.
struct Serving {
    child: Child,
    /// Held so the server's stdout stays open while it is inspected.
    _stdout: BufReader<std::process::ChildStdout>,
    initialize: Value,
}

impl Serving {
    fn start(mut command: Command) -> Serving {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let request = json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "confinement-test", "version": "0"}}
        });
        let stdin = child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{request}").expect("write initialize");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read initialize reply");
        let initialize = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("initialize reply is not JSON ({e}): {line:?}"));
        Serving {
            child,
            _stdout: stdout,
            initialize,
        }
    }

    fn status_field(&self, field: &str) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .unwrap_or_else(|| panic!("no {field} in the server's status"))
            .trim()
            .to_string()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_serving_process_holds_no_capability() {
    let project = temp_project("caps");
    let mut command = Command::new(BIN);
    command.arg("--project").arg(&project);
    let server = Serving::start(command);
    for field in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
        assert_eq!(server.status_field(field), "0000000000000000", "{field}");
    }
    let bounding = server.status_field("CapBnd:");
    if launcher_may_empty_the_bounding_set() {
        assert_eq!(bounding, "0000000000000000", "CapBnd");
    } else {
        // Without CAP_SETPCAP the launcher's bounding set cannot be emptied; the server says so.
        assert_ne!(bounding, "0000000000000000", "CapBnd");
    }
    let capabilities =
        &server.initialize["result"]["_meta"]["codex-harness-mcp/posture"]["capabilities"];
    assert_eq!(capabilities["state"], "enforced", "{capabilities}");
    assert_eq!(
        capabilities["boundingSetEmpty"],
        launcher_may_empty_the_bounding_set(),
        "{capabilities}"
    );
}

/// A shell command that opens fd 3 read-write on `file` and fd 4 as a TCP connection to
/// `port` on loopback (bash's /dev/tcp), then runs the server binary with `args` in its
/// place, as a launcher that leaks descriptors would.
fn with_inherited_descriptors(file: &Path, port: u16, args: &[&std::ffi::OsStr]) -> Command {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(r#"exec 3<>"$1" 4<>"/dev/tcp/127.0.0.1/$2" && shift 2 && exec "$0" "$@""#)
        .arg(BIN)
        .arg(file)
        .arg(port.to_string())
        .args(args);
    command
}

/// A file outside any project, for a launcher to leak.
fn outside_file(tag: &str) -> (PathBuf, u64) {
    use std::os::unix::fs::MetadataExt;
    let dir = temp_project(tag);
    let file = dir.join("outside.txt");
    std::fs::write(&file, "the launcher's file\n").expect("write the outside file");
    let inode = std::fs::metadata(&file).expect("stat").ino();
    (file, inode)
}

#[test]
fn a_file_and_a_socket_left_open_by_the_launcher_are_closed_before_confinement() {
    let (file, inode) = outside_file("fd-selftest");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let port = listener.local_addr().expect("address").port();
    let project = temp_project("fd-selftest-project");
    let output = with_inherited_descriptors(
        &file,
        port,
        &[
            "__confinement-selftest".as_ref(),
            "--project".as_ref(),
            project.as_os_str(),
        ],
    )
    .output()
    .expect("run the self-test through bash");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "self-test did not print one JSON object ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let descriptors = &report["descriptors"];
    let inherited = descriptors["inherited"].as_array().expect("inherited list");
    // The setup itself is checked, so the test cannot pass with nothing inherited.
    assert!(
        inherited
            .iter()
            .any(|d| d["fd"] == 3 && d["kind"] == "file" && d["ino"] == inode),
        "fd 3 was not the outside file: {descriptors}"
    );
    assert!(
        inherited
            .iter()
            .any(|d| d["fd"] == 4 && d["kind"] == "socket"),
        "fd 4 was not a socket: {descriptors}"
    );
    assert_eq!(descriptors["survivors"], json!([]), "{descriptors}");
    let after = descriptors["afterConfinement"].as_array().expect("list");
    assert!(
        after.iter().all(|d| d["ino"] != inode),
        "the outside file is still open after confinement: {descriptors}"
    );
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read back"),
        "the launcher's file\n"
    );
}

#[test]
fn a_socket_left_open_by_the_launcher_is_closed_by_the_serving_process() {
    let (file, _) = outside_file("fd-serve");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let port = listener.local_addr().expect("address").port();
    let project = temp_project("fd-serve-project");
    let server = Serving::start(with_inherited_descriptors(
        &file,
        port,
        &["--project".as_ref(), project.as_os_str()],
    ));
    assert!(
        server.initialize["result"].is_object(),
        "{}",
        server.initialize
    );
    let (mut peer, _) = listener.accept().expect("the launcher connected");
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // The server answered initialize, so start-up is over: if it still held fd 4 the read
    // would block until the timeout; with the only copy closed it reads end-of-file.
    let mut byte = [0u8; 1];
    let read = peer.read(&mut byte);
    assert!(
        matches!(read, Ok(0)),
        "the inherited socket is still open in the serving process: {read:?}"
    );
}

/// Runs `probe` on a new thread of this test process after installing the exact seccomp
/// filter serve installs (the filter binds only the thread that installs it).
fn under_the_server_filter<T: Send + 'static>(probe: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        codex_harness_mcp::confine::seccomp::install().expect("install the seccomp filter");
        probe()
    })
    .join()
    .expect("probe thread")
}

/// The errno of a raw system call, or 0 when it succeeded.
fn errno_of(result: libc::c_long) -> i32 {
    if result == -1 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    }
}

const PAGE: usize = 4096;

fn raw_mmap(extra_flags: libc::c_int) -> libc::c_long {
    // SAFETY: an anonymous private mapping at an address the kernel chooses touches no memory
    // of this process.
    unsafe {
        libc::syscall(
            libc::SYS_mmap,
            0usize,
            PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra_flags,
            -1,
            0,
        )
    }
}

#[test]
fn mmap_with_map_locked_is_refused_and_a_plain_mapping_still_works() {
    let (locked, plain) = under_the_server_filter(|| {
        let locked = raw_mmap(libc::MAP_LOCKED);
        let locked_errno = errno_of(locked);
        let plain = raw_mmap(0);
        let plain_errno = errno_of(plain);
        // SAFETY: unmapping the pages just mapped (if any); nothing refers to them.
        unsafe {
            for address in [locked, plain] {
                if address != -1 {
                    libc::munmap(address as *mut libc::c_void, PAGE);
                }
            }
        }
        (locked_errno, plain_errno)
    });
    assert_eq!(locked, libc::EPERM, "MAP_LOCKED mmap: errno {locked}");
    assert_eq!(plain, 0, "plain mmap: errno {plain}");
}

#[test]
fn madvise_is_limited_to_the_advice_the_allocator_gives() {
    let results = under_the_server_filter(|| {
        let address = raw_mmap(0);
        assert_ne!(address, -1, "plain mmap under the filter");
        let advise = |advice: libc::c_int| {
            // SAFETY: advice on a private anonymous page this closure mapped and owns.
            errno_of(unsafe { libc::syscall(libc::SYS_madvise, address, PAGE, advice) })
        };
        let results = [
            ("MADV_DONTNEED", advise(libc::MADV_DONTNEED)),
            ("MADV_MERGEABLE", advise(libc::MADV_MERGEABLE)),
            ("MADV_DONTFORK", advise(libc::MADV_DONTFORK)),
            ("MADV_HWPOISON", advise(libc::MADV_HWPOISON)),
            ("MADV_POPULATE_WRITE", advise(23)),
        ];
        // SAFETY: unmapping the page mapped above; nothing refers to it.
        unsafe { libc::munmap(address as *mut libc::c_void, PAGE) };
        results
    });
    assert_eq!(results[0], ("MADV_DONTNEED", 0));
    for (advice, errno) in &results[1..] {
        assert_eq!(*errno, libc::EPERM, "{advice}: errno {errno}");
    }
}

#[test]
fn unlisted_calls_get_enosys_and_dangerous_ones_eperm() {
    let results = under_the_server_filter(|| {
        // SAFETY: each call either fails in the filter or has no memory effect here: getppid and
        // faccessat2 only read; execve, socket and clone3 are refused before the kernel looks at
        // their (null) arguments.
        unsafe {
            [
                ("getppid", errno_of(libc::syscall(libc::SYS_getppid))),
                (
                    "faccessat2",
                    errno_of(libc::syscall(
                        libc::SYS_faccessat2,
                        libc::AT_FDCWD,
                        c"/".as_ptr(),
                        libc::F_OK,
                        0,
                    )),
                ),
                (
                    "execve",
                    errno_of(libc::syscall(libc::SYS_execve, 0usize, 0usize, 0usize)),
                ),
                (
                    "socket",
                    errno_of(libc::syscall(
                        libc::SYS_socket,
                        libc::AF_INET,
                        libc::SOCK_STREAM,
                        0,
                    )),
                ),
                (
                    "clone3",
                    errno_of(libc::syscall(libc::SYS_clone3, 0usize, 0usize)),
                ),
            ]
        }
    });
    assert_eq!(results[0], ("getppid", libc::ENOSYS));
    assert_eq!(results[1], ("faccessat2", libc::ENOSYS));
    for (name, errno) in &results[2..] {
        assert_eq!(*errno, libc::EPERM, "{name}: errno {errno}");
    }
}

//! A `project_path` names the pinned project by identity (device and inode), not by
//! spelling: a symlink to the project is the same project, a symlink to another directory,
//! or another directory, is still refused.
#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.

mod common;

use common::{Server, TempProject};
use serde_json::{json, Value};
use std::os::unix::fs::symlink;

const REFUSAL: &str = "names a different project";

fn bootstrap(server: &mut Server, project_path: &std::path::Path) -> Value {
    server.call(
        "harness_bootstrap",
        json!({"project_path": project_path.to_string_lossy()}),
    )
}

fn refused(result: &Value) -> bool {
    result["isError"] == true
        && result["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains(REFUSAL))
}

#[test]
fn a_symlink_to_the_pinned_project_is_the_same_project() {
    let project = TempProject::new("id-real");
    let links = TempProject::new("id-links");
    let link = links.path.join("alias");
    symlink(&project.path, &link).expect("symlink");
    let mut server = Server::start(&project.path);
    let result = bootstrap(&mut server, &link);
    assert!(result.get("isError").is_none(), "refused: {result}");
    assert!(project.harness().join("state.json").exists());
    // Resources take the same route.
    let reply = server.request(
        "resources/read",
        json!({"uri": "harness://state", "project_path": link.to_string_lossy()}),
    );
    assert!(reply.get("error").is_none(), "{reply}");
    // Through a symlinked parent and a `..` too.
    let dotted = link.join("sub").join("..");
    std::fs::create_dir_all(project.path.join("sub")).expect("sub");
    assert!(bootstrap(&mut server, &dotted).get("isError").is_none());
    assert_eq!(server.finish(), 0);
}

#[test]
fn the_real_path_of_a_project_pinned_through_a_symlink_is_the_same_project() {
    let project = TempProject::new("id-real2");
    let links = TempProject::new("id-links2");
    let link = links.path.join("alias");
    symlink(&project.path, &link).expect("symlink");
    let mut server = Server::start(&link);
    assert!(bootstrap(&mut server, &project.path)
        .get("isError")
        .is_none());
    assert_eq!(server.finish(), 0);
}

#[test]
fn other_directories_are_still_refused_however_they_are_spelled() {
    let project = TempProject::new("id-pinned");
    let other = TempProject::new("id-other");
    let link = other.path.join("to-other");
    symlink(&other.path, &link).expect("symlink");
    let mut server = Server::start(&project.path);
    for path in [
        other.path.clone(),
        link,
        other.path.join("missing"),
        project.path.join("sub-not-the-project"),
    ] {
        let result = bootstrap(&mut server, &path);
        assert!(refused(&result), "{}: {result}", path.display());
        let reply = server.request(
            "resources/list",
            json!({"project_path": path.to_string_lossy()}),
        );
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
    }
    assert!(!other.path.join(".codex-harness").exists());
    assert_eq!(server.finish(), 0);
}

//! Pages of the record families' JSON listings (`harness://contracts` and the eval lists):
//! the records of one page are opened, the others are only counted by name, so a family of
//! 100,000 records costs its names and one page. A page is chosen by the non-standard read
//! parameters `offset` (0 by default) and `page_size` (as `resources/list` takes it); while
//! more remain the result carries `nextOffset` (a number, which reaches the agent as it is).
//! A family no larger than one default page reads exactly as in the original.
//!
//! `resources/list` pages the record ids of every family in turn ([`ids_page`]): it costs a
//! count of each family before the page and the ids of the page.
//!
//! It never opens a record outside the requested page, and never lists an id that is not a
//! safe file id.

use super::{numeric_param, page_size};
use crate::harness::records::{names_with_suffix, read_listed, Listing};
use crate::harness::ToolError;
use crate::sanitize::safe_file_id;
use crate::store::Store;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex, Weak};

/// The records of the requested page of `dir`, in file-name order, and the `nextOffset`
/// to put in the result (when more remain).
pub fn read_page(
    store: &Store,
    dir: &str,
    params: &Map<String, Value>,
) -> Result<(Listing, Option<Value>), ToolError> {
    let names = names_with_suffix(store, dir, ".json")?;
    let start = numeric_param(params, "offset", 0).min(names.len());
    let end = start.saturating_add(page_size(params)).min(names.len());
    let listing = read_listed(store, dir, &names[start..end])?;
    Ok((listing, (end < names.len()).then(|| json!(end))))
}

/// A family's listing and the positions in it of the names that are no safe file id (never
/// listed): computed once per listing, which the store hands out unchanged while the
/// directory is, so a page does not run `safe_file_id` over 100,000 names each time.
type Unsafe = (String, Weak<Vec<String>>, Arc<Vec<usize>>);
static UNSAFE: Mutex<Vec<Unsafe>> = Mutex::new(Vec::new());

fn unsafe_positions(dir: &str, names: &Arc<Vec<String>>) -> Arc<Vec<usize>> {
    let mut memo = UNSAFE.lock().unwrap_or_else(|e| e.into_inner());
    let kept = memo.iter().find(|(d, listing, _)| {
        d == dir && listing.upgrade().is_some_and(|l| Arc::ptr_eq(&l, names))
    });
    if let Some((_, _, positions)) = kept {
        return Arc::clone(positions);
    }
    let positions: Arc<Vec<usize>> = Arc::new(
        names
            .iter()
            .enumerate()
            .filter(|(_, name)| safe_file_id(name.trim_end_matches(".json")).is_none())
            .map(|(at, _)| at)
            .collect(),
    );
    memo.retain(|(d, _, _)| d != dir);
    memo.push((
        dir.to_string(),
        Arc::downgrade(names),
        Arc::clone(&positions),
    ));
    positions
}

/// The ids `first..last` of the records of `dir` (file-name order, safe ids only), and how
/// many safe ids there are.
pub fn ids_page(
    store: &Store,
    dir: &str,
    first: usize,
    last: usize,
) -> Result<(Vec<String>, usize), ToolError> {
    let names = names_with_suffix(store, dir, ".json")?;
    let skip = unsafe_positions(dir, &names);
    let count = names.len() - skip.len();
    let page = names
        .iter()
        .enumerate()
        .filter(|(at, _)| skip.binary_search(at).is_err())
        .skip(first)
        .take(last.saturating_sub(first))
        .map(|(_, name)| name.trim_end_matches(".json").to_string())
        .collect();
    Ok((page, count))
}

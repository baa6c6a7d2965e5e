//! The bad-input corpus of issue 15 ("never wrong in silence"): every case of
//! `tests/bad_inputs/cases.json` (written by `scripts/make_bad_inputs.py`) run through every
//! command that reads it.
//!
//! Each run starts in a fresh folder holding the case's files, the shared inputs it names and
//! the fixtures it needs (models trained once per test run, then edited as the case says),
//! with "earlier outputs" of known bytes at every path the command writes. It must not panic,
//! must exit with the expected code, and its stderr must contain every expected substring
//! (compared without regard to ASCII case). A failed run must start its stderr with `error: `,
//! keep it short, and leave every file in the folder byte for byte as it was (and write no new
//! one); a successful run must write its outputs and leave every other file untouched. No run
//! may leave a temporary file behind. Every failure is collected, then reported in one table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_json::Value;

use super::{retain, text};

/// The corpus folder.
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad_inputs");
/// The longest stderr a failed run may print: a message, not an echo of the input.
const MAX_STDERR_CHARS: usize = 2000;
/// Placeholder in an edit's `raw` value while the document is serialised.
const RAW_MARK: &str = "@@raw-value@@";

/// `cases.json`.
#[derive(Deserialize)]
struct Manifest {
    /// Folder of the inputs several cases share, relative to the corpus.
    shared_dir: String,
    /// What is prepared once for the whole run (trained models, the demo's outputs).
    fixtures: Vec<Fixture>,
    /// The cases.
    cases: Vec<Case>,
}

/// Command lines run once, in a folder of their own, before any case.
#[derive(Deserialize)]
struct Fixture {
    name: String,
    #[serde(default)]
    shared: Vec<String>,
    runs: Vec<Vec<String>>,
}

/// One bad or odd input and the command lines that read it.
#[derive(Deserialize)]
struct Case {
    name: String,
    class: String,
    /// The case's own files, relative to the corpus.
    dir: Option<String>,
    /// Shared inputs copied beside them.
    #[serde(default)]
    shared: Vec<String>,
    /// Parts of fixtures copied in.
    #[serde(default)]
    fixtures: Vec<FixtureUse>,
    /// Changes made to the copied files (JSON objects, see `apply_edit`).
    #[serde(default)]
    edits: Vec<Value>,
    /// The exit code of every run that does not give its own.
    exit: Option<Exit>,
    /// The stderr substrings of every run that does not give its own.
    stderr_contains: Option<Vec<String>>,
    runs: Vec<Run>,
}

/// `from` (in the fixture's folder) copied to `to` (in the run's folder).
#[derive(Deserialize)]
struct FixtureUse {
    fixture: String,
    from: String,
    to: String,
}

/// One command line and what it must do.
#[derive(Deserialize)]
struct Run {
    args: Vec<String>,
    exit: Option<Exit>,
    stderr_contains: Option<Vec<String>>,
    /// What the command writes: earlier outputs are put there first.
    #[serde(default)]
    outputs: Vec<String>,
    /// Earlier files beside the outputs that a failed run must leave alone too.
    #[serde(default)]
    untouched: Vec<String>,
    /// Files that must hold these substrings afterwards (client ids kept exactly).
    #[serde(default)]
    output_contains: BTreeMap<String, Vec<String>>,
    /// Paths that must not exist afterwards.
    #[serde(default)]
    absent: Vec<String>,
    /// Folders created where a file will be written, so that the write fails.
    #[serde(default)]
    dirs: Vec<String>,
}

/// An exit code, or the codes allowed where the corpus accepts either.
#[derive(Deserialize)]
#[serde(untagged)]
enum Exit {
    One(i32),
    AnyOf(Vec<i32>),
}

impl Exit {
    fn allows(&self, code: i32) -> bool {
        match self {
            Exit::One(c) => *c == code,
            Exit::AnyOf(cs) => cs.contains(&code),
        }
    }

    fn describe(&self) -> String {
        match self {
            Exit::One(c) => c.to_string(),
            Exit::AnyOf(cs) => cs
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// One run that did not do what the corpus says.
struct Failure {
    case: String,
    command: String,
    problems: Vec<String>,
    stderr: String,
}

#[test]
fn every_bad_input_is_refused_clearly() {
    let root = Path::new(CORPUS);
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(root.join("cases.json"))
            .expect("tests/bad_inputs/cases.json: run `python3 scripts/make_bad_inputs.py`"),
    )
    .expect("tests/bad_inputs/cases.json parses");
    let shared = root.join(&manifest.shared_dir);

    // the fixtures, once for the whole run
    let cache = tempfile::tempdir().expect("a temporary folder");
    let mut failures = Vec::new();
    let mut ready: BTreeMap<String, Option<PathBuf>> = BTreeMap::new();
    for f in &manifest.fixtures {
        let dir = cache.path().join(&f.name);
        let mut ok = std::fs::create_dir_all(&dir).is_ok();
        for s in &f.shared {
            if let Err(e) = copy_tree(&shared.join(s), &dir.join(s)) {
                ok = false;
                failures.push(Failure {
                    case: format!("fixture {}", f.name),
                    command: String::new(),
                    problems: vec![format!("copying {s}: {e}")],
                    stderr: String::new(),
                });
            }
        }
        for args in &f.runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = retain(&dir, &args);
            if o.status.code() != Some(0) {
                ok = false;
                failures.push(Failure {
                    case: format!("fixture {}", f.name),
                    command: args.join(" "),
                    problems: vec![format!("exit {:?}, expected 0", o.status.code())],
                    stderr: excerpt(&text(&o).1),
                });
            }
        }
        ready.insert(f.name.clone(), ok.then_some(dir));
    }

    // the cases, on a few threads
    let next = AtomicUsize::new(0);
    let runs = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while let Some(case) = manifest.cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    for run in &case.runs {
                        runs.fetch_add(1, Ordering::Relaxed);
                        if let Some(f) = check_run(root, &shared, &ready, case, run) {
                            found.lock().unwrap().push(f);
                        }
                    }
                }
            });
        }
    });
    let mut found = found.into_inner().unwrap();
    found.sort_by(|a, b| (&a.case, &a.command).cmp(&(&b.case, &b.command)));
    failures.extend(found);

    let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &manifest.cases {
        *classes.entry(c.class.as_str()).or_default() += 1;
    }
    let failed_cases: std::collections::BTreeSet<&str> =
        failures.iter().map(|f| f.case.as_str()).collect();
    println!(
        "bad-input corpus: {} cases, {} runs; {} runs failed in {} cases ({})",
        manifest.cases.len(),
        runs.load(Ordering::Relaxed),
        failures.len(),
        failed_cases.len(),
        classes
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !failures.is_empty() {
        let mut table =
            String::from("case | command | what went wrong | stderr (first 300 chars)\n");
        for f in &failures {
            table.push_str(&format!(
                "{} | {} | {} | {:?}\n",
                f.case,
                f.command,
                f.problems.join("; "),
                f.stderr
            ));
        }
        panic!(
            "{} of {} runs of the bad-input corpus did not do what tests/bad_inputs/cases.json \
             says ({} cases):\n{table}",
            failures.len(),
            runs.load(Ordering::Relaxed),
            failed_cases.len()
        );
    }
}

/// Runs one command line of a case in a fresh folder; `None` when it did all it should.
fn check_run(
    root: &Path,
    shared: &Path,
    fixtures: &BTreeMap<String, Option<PathBuf>>,
    case: &Case,
    run: &Run,
) -> Option<Failure> {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    let failure = |problems: Vec<String>, stderr: &str| Failure {
        case: case.name.clone(),
        command: run.args.join(" "),
        problems,
        stderr: excerpt(stderr),
    };
    if let Err(e) = set_up(root, shared, fixtures, case, run, dir) {
        return Some(failure(vec![format!("setting up the case: {e}")], ""));
    }
    let before = files_under(dir);
    let dir_text = dir.to_string_lossy();
    let args: Vec<String> = run
        .args
        .iter()
        .map(|a| a.replace("{dir}", &dir_text))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = retain(dir, &args);
    let (_, err) = text(&o);
    let after = files_under(dir);
    let code = o.status.code();
    let mut problems = Vec::new();

    if code == Some(101) || err.contains("panicked") {
        problems.push("panicked".to_string());
    }
    match (run.exit.as_ref().or(case.exit.as_ref()), code) {
        (Some(expected), Some(c)) if expected.allows(c) => {}
        (Some(expected), _) => problems.push(format!(
            "exit {}, expected {}",
            code.map_or_else(|| "by a signal".to_string(), |c| c.to_string()),
            expected.describe()
        )),
        (None, _) => problems.push("cases.json gives no exit code".to_string()),
    }
    let lower = err.to_lowercase();
    let needles = run
        .stderr_contains
        .as_ref()
        .or(case.stderr_contains.as_ref());
    for n in needles.into_iter().flatten() {
        if !lower.contains(&n.to_lowercase()) {
            problems.push(format!("stderr lacks {n:?}"));
        }
    }

    if code == Some(0) {
        // inputs are sacred: only the declared outputs may change
        for (path, bytes) in &before {
            let obstacle = run
                .dirs
                .iter()
                .any(|d| path.starts_with(&format!("{}/", d.trim_end_matches('/'))));
            if run.outputs.contains(path) || run.untouched.contains(path) || obstacle {
                continue;
            }
            match after.get(path) {
                None => problems.push(format!("removed the input {path}")),
                Some(b) if b != bytes => problems.push(format!("changed the input {path}")),
                Some(_) => {}
            }
        }
        for out in &run.outputs {
            match after.get(out) {
                None => problems.push(format!("did not write {out}")),
                Some(b) if *b == earlier(out) => problems.push(format!("did not replace {out}")),
                Some(_) => {}
            }
        }
    } else {
        if !err.starts_with("error: ") {
            problems.push("stderr does not start with `error: `".to_string());
        }
        let chars = err.chars().count();
        if chars > MAX_STDERR_CHARS {
            problems.push(format!("stderr is {chars} characters long"));
        }
        // a failed run changes nothing
        for (path, bytes) in &before {
            match after.get(path) {
                None => problems.push(format!("removed {path}")),
                Some(b) if b != bytes => problems.push(format!("changed {path}")),
                Some(_) => {}
            }
        }
        for path in after.keys().filter(|p| !before.contains_key(*p)) {
            problems.push(format!("wrote {path} although it failed"));
        }
    }
    for path in &run.absent {
        if dir.join(path).exists() {
            problems.push(format!("wrote {path}"));
        }
    }
    for (path, needles) in &run.output_contains {
        let Some(bytes) = after.get(path) else {
            problems.push(format!("no {path} to look for {needles:?} in"));
            continue;
        };
        let content = String::from_utf8_lossy(bytes);
        for n in needles {
            if !content.contains(n.as_str()) {
                problems.push(format!("{path} lacks {n:?}"));
            }
        }
    }
    for path in after.keys() {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.contains(".part.") || name.ends_with(".tmp") {
            problems.push(format!("left the temporary file {path}"));
        }
    }
    (!problems.is_empty()).then(|| failure(problems, &err))
}

/// Fills `dir` for one run: the case's files, the shared inputs, the fixtures, the edits, the
/// obstacles, and earlier outputs wherever the command writes.
fn set_up(
    root: &Path,
    shared: &Path,
    fixtures: &BTreeMap<String, Option<PathBuf>>,
    case: &Case,
    run: &Run,
    dir: &Path,
) -> Result<(), String> {
    if let Some(d) = &case.dir {
        copy_tree(&root.join(d), dir).map_err(|e| format!("copying {d}: {e}"))?;
    }
    for s in &case.shared {
        copy_tree(&shared.join(s), &dir.join(s)).map_err(|e| format!("copying {s}: {e}"))?;
    }
    for u in &case.fixtures {
        let Some(Some(from)) = fixtures.get(&u.fixture) else {
            return Err(format!("the fixture {} is missing or failed", u.fixture));
        };
        copy_tree(&from.join(&u.from), &dir.join(&u.to))
            .map_err(|e| format!("copying {}/{}: {e}", u.fixture, u.from))?;
    }
    for e in &case.edits {
        apply_edit(dir, e)?;
    }
    for d in &run.dirs {
        let obstacle = dir.join(d);
        std::fs::create_dir_all(&obstacle).map_err(|e| format!("creating {d}: {e}"))?;
        std::fs::write(obstacle.join("keep"), "an obstacle\n")
            .map_err(|e| format!("writing into {d}: {e}"))?;
    }
    for out in run.outputs.iter().chain(&run.untouched) {
        let path = dir.join(out);
        if path.exists() {
            continue; // an input, or an obstacle: it must survive as it is
        }
        // a path that cannot exist (its parent is a file) gets no earlier output, nor one that
        // turns out to be an input once its folders exist (`sub/../input.csv`)
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if !path.exists() {
            let _ = std::fs::write(path, earlier(out));
        }
    }
    Ok(())
}

/// One edit of a copied file, a JSON object with `file` and one of: `delete: true`,
/// `truncate: N` (keep the first N bytes), `write: TEXT`, or a JSON `pointer` with
/// `value` (set it), `raw` (set it to this text, which need not be JSON: `NaN`, `1e400`) or
/// `remove: true` (remove the member or element).
fn apply_edit(dir: &Path, edit: &Value) -> Result<(), String> {
    let file = edit
        .get("file")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("an edit without `file`: {edit}"))?;
    let path = dir.join(file);
    let path = path.as_path();
    let io = |e: std::io::Error| format!("{file}: {e}");
    if edit.get("delete").and_then(Value::as_bool) == Some(true) {
        return if path.is_dir() {
            std::fs::remove_dir_all(path).map_err(io)
        } else {
            std::fs::remove_file(path).map_err(io)
        };
    }
    if let Some(n) = edit.get("truncate").and_then(Value::as_u64) {
        let bytes = std::fs::read(path).map_err(io)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(bytes.len());
        return std::fs::write(path, &bytes[..n]).map_err(io);
    }
    if let Some(content) = edit.get("write").and_then(Value::as_str) {
        return std::fs::write(path, content).map_err(io);
    }
    let pointer = edit
        .get("pointer")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("an edit without a change: {edit}"))?;
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).map_err(io)?)
        .map_err(|e| format!("{file} is not JSON: {e}"))?;
    let (parent, last) = pointer
        .rsplit_once('/')
        .ok_or_else(|| format!("{file}: bad pointer {pointer}"))?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let raw = edit.get("raw").and_then(Value::as_str);
    let new = if edit.get("remove").and_then(Value::as_bool) == Some(true) {
        None
    } else if raw.is_some() {
        Some(Value::String(RAW_MARK.to_string()))
    } else {
        Some(
            edit.get("value")
                .cloned()
                .ok_or_else(|| format!("an edit without a change: {edit}"))?,
        )
    };
    let missing = || format!("{file} has nothing at {pointer}");
    match doc.pointer_mut(parent).ok_or_else(missing)? {
        Value::Array(items) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i >= items.len() {
                return Err(missing());
            }
            match new {
                None => {
                    items.remove(i);
                }
                Some(v) => items[i] = v,
            }
        }
        Value::Object(members) => {
            if !members.contains_key(&last) {
                return Err(missing());
            }
            match new {
                None => {
                    members.remove(&last);
                }
                Some(v) => {
                    members.insert(last, v);
                }
            }
        }
        _ => return Err(missing()),
    }
    let mut content = serde_json::to_string_pretty(&doc).map_err(|e| format!("{file}: {e}"))?;
    if let Some(raw) = raw {
        content = content.replace(&format!("\"{RAW_MARK}\""), raw);
    }
    std::fs::write(path, content).map_err(io)
}

/// The bytes an earlier run left at `path`.
fn earlier(path: &str) -> Vec<u8> {
    format!("earlier output at {path}: must survive a failed run\n").into_bytes()
}

/// Copies a file, or a folder with everything under it.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to).map(|_| ())
    }
}

/// Every file under `dir` (relative path with `/`, bytes).
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(rel.join("/"), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The first 300 characters of a stderr.
fn excerpt(stderr: &str) -> String {
    stderr.chars().take(300).collect()
}

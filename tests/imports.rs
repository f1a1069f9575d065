//! The module graph, drawn from the code's own `crate::` paths: imports point
//! from the edge toward the core, with no loop between top-level modules, and
//! `slack`/`green_api` import neither each other nor the edge (README,
//! "Module map"). Test code is left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The edge: what starts, wires and serves the process, and the doors.
const EDGE: &[&str] = &["main", "cli", "startup", "config", "routes", "socket_mode", "handler", "state"];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph() -> Graph {
    let mut graph = Graph::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            let module = relative.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let imports = graph.entry(module.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String =
                    code[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && name != module {
                    imports.insert(name);
                }
            }
        }
    }
    graph
}

/// A loop through `from`, as the modules on it, if there is one.
fn loop_through(graph: &Graph, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_owned(), vec![from.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((module, path)) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn no_top_level_modules_import_each_other_in_a_loop() {
    let graph = graph();
    assert!(graph.contains_key("green_api") && graph.contains_key("slack"), "{graph:?}");
    for module in graph.keys() {
        if let Some(cycle) = loop_through(&graph, module) {
            panic!("an import loop: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn slack_and_green_api_import_neither_each_other_nor_the_edge() {
    let graph = graph();
    for (module, other) in [("slack", "green_api"), ("green_api", "slack")] {
        let imports = &graph[module];
        assert!(!imports.contains(other), "{module} imports {other}");
        for edge in EDGE {
            assert!(!imports.contains(*edge), "{module} imports the edge module {edge}");
        }
    }
}

//! The documentation's links work from a fresh clone: every relative link in the
//! Markdown files of the repository root, `docs/`, `deploy/` and `tools/` names a file
//! or directory that exists, every `#anchor` names a heading of its target, and nothing
//! (link, or path written in the text) points outside the repository.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files checked: the root's, and everything under the documentation folders.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            // Packages the load benchmark installs (tools/load/bolt) are not
            // our documentation.
            if path.is_dir() && !path.ends_with("node_modules") {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    let root = repo_root();
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .expect("the repository root is readable")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
        .collect();
    for dir in ["docs", "deploy", "tools"] {
        walk(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

/// The lines of `text` outside fenced code blocks.
fn lines_outside_fences(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(open), Some(m)) if open == m => fence = None,
            (None, None) => lines.push(line),
            _ => {}
        }
    }
    lines
}

/// The lines of `text` outside fenced code blocks, with inline code spans removed: where
/// Markdown finds links.
fn prose_lines(text: &str) -> Vec<String> {
    lines_outside_fences(text).into_iter().map(without_code_spans).collect()
}

/// `line` without its code spans: a run of n backticks up to the next run of exactly n.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let run = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + run..];
        // The closing run: exactly `run` backticks, not part of a longer run.
        let closing = after.char_indices().map(|(i, _)| i).find(|&i| {
            let len = after[i..].chars().take_while(|&c| c == '`').count();
            len == run && !after[..i].ends_with('`')
        });
        match closing {
            Some(end) => rest = &after[end + run..],
            None => {
                // An unmatched run is literal text.
                out.push_str(&rest[start..start + run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of the inline links and images `[text](target "title")` and of reference
/// definitions `[label]: target` in one line of prose.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    if let Some(definition) = line.trim_start().strip_prefix('[')
        && let Some((_, target)) = definition.split_once("]:")
        && let Some(target) = target.split_whitespace().next()
    {
        targets.push(target.trim_start_matches('<').trim_end_matches('>').to_owned());
    }
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let (target, consumed) = if let Some(inner) = after.strip_prefix('<') {
            let end = inner.find('>').unwrap_or(inner.len());
            (&inner[..end], end + 1)
        } else {
            // Balanced parentheses belong to the target; a space starts the title.
            let mut depth = 0usize;
            let end = after
                .char_indices()
                .find(|&(_, c)| match c {
                    '(' => {
                        depth += 1;
                        false
                    }
                    ')' if depth == 0 => true,
                    ')' => {
                        depth -= 1;
                        false
                    }
                    c => c.is_whitespace(),
                })
                .map_or(after.len(), |(i, _)| i);
            (&after[..end], end)
        };
        targets.push(target.to_owned());
        rest = &after[consumed.min(after.len())..];
    }
    targets
}

/// GitHub's anchor for a heading: lower case; letters, digits, `-` and `_` kept, spaces
/// become `-`, everything else is dropped; link syntax keeps only its text.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // [text](url) -> text
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|i| open + i) else { break };
        let Some(end) = rest[close..].find(')').map(|i| close + i) else { break };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings, with GitHub's `-1`, `-2` for repeats.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in lines_outside_fences(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(line[hashes..].trim().trim_end_matches('#'));
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// `dir/target` with `.` and `..` resolved, or None when it climbs out of the repository.
fn resolve(dir: &Path, target: &str) -> Option<PathBuf> {
    let root = repo_root();
    let mut path = dir.strip_prefix(&root).expect("a file inside the repository").to_path_buf();
    for component in Path::new(target).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !path.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(root.join(path))
}

fn is_external(target: &str) -> bool {
    let scheme = target.split_once(':').map(|(s, _)| s);
    scheme.is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)))
}

fn percent_decoded(target: &str) -> String {
    target.replace("%20", " ")
}

/// Every broken relative link of one Markdown file, as "file: target: why".
fn broken_links(file: &Path) -> Vec<String> {
    let text = fs::read_to_string(file).expect("a readable Markdown file");
    let name = file.strip_prefix(repo_root()).unwrap_or(file).display().to_string();
    let dir = file.parent().expect("a file has a folder");
    let mut broken = Vec::new();
    for target in prose_lines(&text).iter().flat_map(|l| link_targets(l)) {
        if target.is_empty() {
            broken.push(format!("{name}: an empty link"));
            continue;
        }
        if is_external(&target) {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (target.as_str(), None),
        };
        let resolved = if path.is_empty() {
            file.to_path_buf()
        } else {
            match resolve(dir, &percent_decoded(path)) {
                Some(resolved) => resolved,
                None => {
                    broken.push(format!("{name}: {target}: points outside the repository"));
                    continue;
                }
            }
        };
        if !resolved.exists() {
            broken.push(format!("{name}: {target}: no such file"));
            continue;
        }
        if let Some(anchor) = anchor {
            let is_markdown = resolved.extension().is_some_and(|e| e == "md");
            let headings =
                if is_markdown { anchors(&fs::read_to_string(&resolved).unwrap_or_default()) } else { BTreeSet::new() };
            if !headings.contains(anchor) {
                broken.push(format!("{name}: {target}: no heading with the anchor #{anchor}"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_documentation_resolves() {
    let files = markdown_files();
    assert!(files.iter().any(|f| f.ends_with("README.md")), "README.md is among the checked files");
    let broken: Vec<String> = files.iter().flat_map(|f| broken_links(f)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn no_path_in_the_documentation_points_outside_the_repository() {
    // Paths written as text (in code too) that climb above the repository root, such as
    // `../shared/tools/x.sh`: a reader of a fresh clone does not have them.
    let mut outside = Vec::new();
    for file in markdown_files() {
        let text = fs::read_to_string(&file).expect("a readable Markdown file");
        let dir = file.parent().expect("a folder");
        let is_path_char = |c: char| c.is_ascii_alphanumeric() || "._/-~".contains(c);
        for (at, _) in text.match_indices("../") {
            let start = text[..at].rfind(|c: char| !is_path_char(c)).map_or(0, |i| i + 1);
            let end = text[at..].find(|c: char| !is_path_char(c)).map_or(text.len(), |i| at + i);
            let token = &text[start..end];
            if token.starts_with("../") && resolve(dir, token).is_none() {
                outside.push(format!("{}: {token}", file.strip_prefix(repo_root()).unwrap_or(&file).display()));
            }
        }
    }
    outside.dedup();
    assert!(outside.is_empty(), "paths outside the repository:\n{}", outside.join("\n"));
}

#[test]
fn the_link_checker_reads_markdown_as_github_renders_it() {
    // Anchors, as GitHub makes them.
    for (heading, anchor) in [
        ("Installing `/sendcontact` in your Slack workspace", "installing-sendcontact-in-your-slack-workspace"),
        ("1. Create the Slack app from `manifest.yml`", "1-create-the-slack-app-from-manifestyml"),
        ("Socket Mode: no public URL", "socket-mode-no-public-url"),
        ("The form and the contact card", "the-form-and-the-contact-card"),
        ("See [Metrics](#metrics) too", "see-metrics-too"),
        ("Отправка контакта", "отправка-контакта"),
        ("snake_case and -dashes-", "snake_case-and--dashes-"),
    ] {
        assert_eq!(slug(heading), anchor, "anchor of {heading:?}");
    }
    let repeated = anchors("# A\n## A\n```\n# not a heading\n```\n### A\n#no space\n");
    assert_eq!(repeated, BTreeSet::from(["a".to_owned(), "a-1".to_owned(), "a-2".to_owned()]));

    // Links: inline, images, titles, angle brackets, balanced parentheses, definitions;
    // none inside code.
    for (line, expected) in [
        ("see [the guide](docs/a.md) and ![x](img/b.png \"title\")", vec!["docs/a.md", "img/b.png"]),
        ("[x](<docs/with space.md>) [y](a_(b).md)", vec!["docs/with space.md", "a_(b).md"]),
        ("[ref]: docs/c.md \"Title\"", vec!["docs/c.md"]),
        ("`[not](a-link.md)` but [this](one.md)", vec!["one.md"]),
        ("``code with ` inside [no](x.md)`` [yes](y.md)", vec!["y.md"]),
    ] {
        let prose = prose_lines(line);
        let found: Vec<String> = prose.iter().flat_map(|l| link_targets(l)).collect();
        assert_eq!(found, expected, "links of {line:?}");
    }
    assert!(prose_lines("```sh\n[x](y.md)\n```\n").is_empty(), "fenced code is not prose");

    assert!(is_external("https://api.slack.com/apps") && is_external("mailto:a@b.c"));
    assert!(!is_external("docs/a.md") && !is_external("#metrics"));
    let docs = repo_root().join("docs");
    assert_eq!(resolve(&docs, "../README.md"), Some(repo_root().join("README.md")));
    assert_eq!(resolve(&docs, "../../outside.md"), None, "climbing above the root is outside");
    assert_eq!(resolve(&docs, "/etc/passwd"), None, "an absolute path is outside");
}

/// The variables in the tables of README's "Configuration" section.
fn readme_variables() -> BTreeSet<String> {
    let readme = fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme.split("\n## Configuration\n").nth(1).expect("README has a Configuration section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .collect()
}

#[test]
fn env_example_and_readme_name_the_same_variables() {
    let example = fs::read_to_string(repo_root().join(".env.example")).expect(".env.example");
    let in_example: BTreeSet<String> = example
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.to_owned()))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    let documented = readme_variables();
    assert!(documented.len() >= 15, "README's configuration tables were found: {documented:?}");
    // The instances file's tokens have the names its token_env gives: examples, not variables of the service.
    let readme = fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let token_envs: BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.trim().strip_prefix("token_env = \""))
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect();
    let in_example: BTreeSet<String> = in_example.difference(&token_envs).cloned().collect();
    let undocumented: Vec<_> = in_example.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&in_example).collect();
    assert!(undocumented.is_empty(), ".env.example has variables README does not explain: {undocumented:?}");
    assert!(missing.is_empty(), "README explains variables .env.example does not list: {missing:?}");
}

#[test]
fn every_variable_readme_documents_is_read_by_the_service() {
    let mut sources = String::new();
    fn collect(dir: &Path, out: &mut String) {
        for entry in fs::read_dir(dir).expect("src is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&fs::read_to_string(&path).expect("a source file"));
            }
        }
    }
    collect(&repo_root().join("src"), &mut sources);
    let unread: Vec<String> = readme_variables()
        .into_iter()
        .filter(|name| {
            !sources.contains(&format!("\"{name}\"")) && !sources.contains(&format!("{}:", name.to_ascii_lowercase()))
        })
        .collect();
    assert!(unread.is_empty(), "README documents variables the service does not read: {unread:?}");
}

//! Checks the files an admin deploys with, without any network or cluster:
//! - `manifest.yml` and `manifest.socket-mode.yml`, the Slack app manifests (HTTP and
//!   Socket Mode): valid against Slack's manifest schema 1.0.0 (vendored in
//!   tests/fixtures/slack-manifest-schema), and declaring the command as the service
//!   expects it;
//! - `deploy/kubernetes/`, the example for several replicas (a Socket Mode and an HTTP
//!   variant over one base, applied with `kubectl apply -k`): probes, grace period,
//!   secrets kept apart, the instances file (read by the service's own reader), disruption
//!   budget and spread, Service, Ingress and security settings consistent with the
//!   service's behaviour;
//! - `Dockerfile`: stays buildable without a container registry and runs as non-root.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Value, json};

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    fs::read_to_string(repo_path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// One YAML document as JSON values (YAML is parsed, then handled as JSON for the schema).
fn yaml(rel: &str) -> Value {
    serde_yaml_ng::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

/// Every non-empty document of a multi-document YAML file.
fn yaml_documents(rel: &str) -> Vec<Value> {
    let text = read(rel);
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}")))
        .filter(|doc| !doc.is_null())
        .collect()
}

// ------------------------------------------------------------------------ Slack manifest

const SLACK_SCHEMA: &str = "tests/fixtures/slack-manifest-schema/manifest.schema.1.0.0.json";

fn slack_schema_errors(manifest: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(&read(SLACK_SCHEMA)).expect("vendored schema is JSON");
    // The schema declares draft-07 and only has local `#/definitions/...` references.
    let validator = jsonschema::draft7::new(&schema).expect("Slack's schema compiles");
    validator.iter_errors(manifest).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

fn slash_command(manifest: &Value) -> &Value {
    let commands = manifest["features"]["slash_commands"].as_array().expect("features.slash_commands is a list");
    assert_eq!(commands.len(), 1, "exactly one slash command: {commands:?}");
    &commands[0]
}

#[test]
fn slack_manifest_is_valid_against_slacks_schema() {
    let manifest = yaml("manifest.yml");
    assert_eq!(
        manifest["_metadata"]["major_version"],
        json!(1),
        "the vendored schema 1.0.0 is the one for major_version 1"
    );
    let errors = slack_schema_errors(&manifest);
    assert!(errors.is_empty(), "manifest.yml violates Slack's schema:\n{}", errors.join("\n"));
}

#[test]
fn slack_schema_check_rejects_broken_manifests() {
    // Guards the check above against passing vacuously (wrong draft, ignored refs...).
    let good = yaml("manifest.yml");
    // (what, JSON pointer of the key to change, its new value or None to remove it)
    let broken: [(&str, &str, Option<Value>); 8] = [
        ("no display_information", "/display_information", None),
        ("unknown top-level key", "/no_such_key", Some(json!(true))),
        (
            "command over 32 characters",
            "/features/slash_commands/0/command",
            Some(json!("/sendcontact-with-a-far-too-long-name")),
        ),
        ("command without a slash", "/features/slash_commands/0/command", Some(json!("sendcontact"))),
        ("url not http(s)", "/features/slash_commands/0/url", Some(json!("ftp://example.com/x"))),
        ("should_escape not a boolean", "/features/slash_commands/0/should_escape", Some(json!("yes"))),
        ("long_description under 175 characters", "/display_information/long_description", Some(json!("short"))),
        ("name over 35 characters", "/display_information/name", Some(json!("x".repeat(36)))),
    ];
    for (what, pointer, value) in broken {
        let mut manifest = good.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
        let parent =
            manifest.pointer_mut(parent).and_then(Value::as_object_mut).expect("the key's parent is an object");
        match value {
            Some(value) => parent.insert(key.to_owned(), value),
            None => parent.remove(key),
        };
        assert!(!slack_schema_errors(&manifest).is_empty(), "schema accepted a manifest with {what}");
    }
}

#[test]
fn slack_manifest_declares_the_sendcontact_command() {
    let manifest = yaml("manifest.yml");
    let command = slash_command(&manifest);
    assert_eq!(command["command"], "/sendcontact");
    assert_eq!(command["usage_hint"], "<chatId> <phone> <firstName> [lastName] [company]");
    assert!(command["description"].as_str().is_some_and(|d| !d.trim().is_empty()), "the command has a description");

    // The request URL is a placeholder the admin replaces; it must point at our route.
    let url = command["url"].as_str().expect("the command has a request url");
    assert_eq!(url, "https://sendcontact.example.com/slack/commands");
    let guides: Vec<String> = ["README.md"].iter().filter_map(|p| fs::read_to_string(repo_path(p)).ok()).collect();
    assert!(
        guides.iter().any(|g| g.contains("sendcontact.example.com")),
        "the install guide tells the admin to replace the placeholder request URL"
    );

    // Chosen on purpose (see the comment in manifest.yml): written out, not left to
    // Slack's default (false).
    assert_eq!(command["should_escape"], json!(true), "should_escape is explicitly true");
}

#[test]
fn slack_manifest_asks_only_for_the_scopes_the_bot_uses_over_http() {
    let manifest = yaml("manifest.yml");
    // commands: the command and views.open; chat:write: the form's outcome; im:write:
    // the direct-message fallback; users:read: the locale for REPLY_LANGUAGE=auto.
    assert_eq!(manifest["oauth_config"]["scopes"]["bot"], json!(["commands", "chat:write", "im:write", "users:read"]));
    assert!(manifest["oauth_config"]["scopes"].get("user").is_none(), "no user scopes are requested");
    assert!(manifest["features"]["bot_user"]["display_name"].is_string(), "the bot user posts the outcome");
    // Commands arrive over HTTPS at the request URL, which Socket Mode would bypass.
    assert_eq!(manifest["settings"]["socket_mode_enabled"], json!(false));
    // Form submissions come to the interactivity URL, on the same placeholder host.
    assert_eq!(manifest["settings"]["interactivity"]["is_enabled"], json!(true));
    assert_eq!(
        manifest["settings"]["interactivity"]["request_url"],
        json!("https://sendcontact.example.com/slack/interactions")
    );
    // The form's chat menu asks the same URL for its options.
    assert_eq!(
        manifest["settings"]["interactivity"]["message_menu_options_url"],
        manifest["settings"]["interactivity"]["request_url"]
    );
    // Nothing this service does not implement.
    assert!(manifest["settings"].get("event_subscriptions").is_none());
}

const SOCKET_MODE_MANIFEST: &str = "manifest.socket-mode.yml";

#[test]
fn socket_mode_manifest_is_valid_against_slacks_schema() {
    let manifest = yaml(SOCKET_MODE_MANIFEST);
    assert_eq!(manifest["_metadata"]["major_version"], json!(1));
    let errors = slack_schema_errors(&manifest);
    assert!(errors.is_empty(), "{SOCKET_MODE_MANIFEST} violates Slack's schema:\n{}", errors.join("\n"));
    // The check is not vacuous for this file either.
    let mut broken = manifest.clone();
    broken["settings"]["socket_mode_enabled"] = json!("yes");
    assert!(!slack_schema_errors(&broken).is_empty());
}

#[test]
fn socket_mode_manifest_declares_the_same_command_with_no_request_url() {
    let socket_mode = yaml(SOCKET_MODE_MANIFEST);
    let http = yaml("manifest.yml");
    assert_eq!(socket_mode["settings"]["socket_mode_enabled"], json!(true));
    let command = slash_command(&socket_mode);
    assert!(command.get("url").is_none(), "in Socket Mode Slack needs no request URL");
    let interactivity = &socket_mode["settings"]["interactivity"];
    assert_eq!(interactivity["is_enabled"], json!(true), "form submissions come over the socket too");
    assert!(interactivity.get("request_url").is_none());
    assert!(interactivity.get("message_menu_options_url").is_none(), "menus ask over the socket too");
    // Everything else about the command, the bot, the scopes and the app's face is the same.
    let mut http_command = slash_command(&http).clone();
    http_command.as_object_mut().unwrap().remove("url");
    assert_eq!(command, &http_command);
    for part in ["oauth_config", "display_information", "_metadata"] {
        assert_eq!(socket_mode[part], http[part], "{part}");
    }
    assert_eq!(socket_mode["features"]["bot_user"], http["features"]["bot_user"]);
    assert!(!read(SOCKET_MODE_MANIFEST).contains("example.com"), "no placeholder for the admin to replace");
}

// ------------------------------------------------------------------------ Kubernetes

/// The two ways to run it, each applied with `kubectl apply -k deploy/kubernetes/<variant>`.
const VARIANTS: [&str; 2] = ["socket-mode", "http"];
const K8S_DIR: &str = "deploy/kubernetes";
const SECRET_EXAMPLE: &str = "deploy/kubernetes/secret/secret.example.yml";

/// The objects `kubectl apply -k <dir>` creates. The kustomizations use only `resources`
/// and `configMapGenerator` (asserted), so following them here gives what kustomize gives,
/// apart from the hash suffix kustomize appends to generated names (and to their references).
fn kustomize(dir: &str) -> Vec<Value> {
    let rel = format!("{dir}/kustomization.yaml");
    let kustomization = yaml(&rel);
    let keys: BTreeSet<&str> =
        kustomization.as_object().unwrap_or_else(|| panic!("{rel} is a map")).keys().map(String::as_str).collect();
    let known = BTreeSet::from(["apiVersion", "kind", "resources", "configMapGenerator"]);
    assert!(keys.is_subset(&known), "{rel} uses only {known:?} (this test follows nothing else): {keys:?}");
    assert_eq!(kustomization["kind"], "Kustomization");

    let mut objects = Vec::new();
    for resource in kustomization["resources"].as_array().into_iter().flatten() {
        let path = format!("{dir}/{}", str_of(resource, "a kustomization resource"));
        let path = normalize(&path);
        if repo_path(&path).is_dir() {
            objects.extend(kustomize(&path));
        } else {
            objects.extend(yaml_documents(&path));
        }
    }
    for generator in kustomization["configMapGenerator"].as_array().into_iter().flatten() {
        let mut data = serde_json::Map::new();
        for file in generator["files"].as_array().expect("a generator lists its files") {
            let file = str_of(file, "a generated file");
            assert!(!file.contains('='), "{rel}: the key is the file name ({file})");
            let key = file.rsplit('/').next().expect("a file name").to_owned();
            data.insert(key, Value::String(read(&format!("{dir}/{file}"))));
        }
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": generator["name"] },
            "data": data,
        }));
    }
    objects
}

/// `a/b/../c` as `a/c`: kustomize paths are relative to their kustomization.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop().expect("the path stays inside the repository");
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

fn variant(name: &str) -> Vec<Value> {
    kustomize(&format!("{K8S_DIR}/{name}"))
}

/// Environment variables whose values are secrets: never literal in the Deployment.
const SECRET_VARS: [&str; 3] = ["SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"];

fn k8s_object<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "exactly one {kind}");
    found[0]
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str().unwrap_or_else(|| panic!("{what} is a string, got {v}"))
}

fn container(deployment: &Value) -> &Value {
    let containers =
        deployment["spec"]["template"]["spec"]["containers"].as_array().expect("Deployment has containers");
    assert_eq!(containers.len(), 1, "one container per pod");
    &containers[0]
}

fn pod_labels(deployment: &Value) -> &serde_json::Map<String, Value> {
    deployment["spec"]["template"]["metadata"]["labels"].as_object().expect("the pods have labels")
}

/// Whether `selector` (matchLabels) selects the Deployment's pods.
fn selects_pods(selector: &Value, deployment: &Value) -> bool {
    let labels = pod_labels(deployment);
    selector.as_object().is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// The container's HTTP port: (number, name if any).
fn container_port(container: &Value) -> (u64, Option<String>) {
    let ports = container["ports"].as_array().expect("container declares its ports");
    assert_eq!(ports.len(), 1, "the container exposes one port");
    let number = ports[0]["containerPort"].as_u64().expect("containerPort is a number");
    (number, ports[0]["name"].as_str().map(str::to_owned))
}

/// Whether `port` (a number or a port name, as probes and Services write it) is the container's.
fn is_container_port(port: &Value, container: &Value) -> bool {
    let (number, name) = container_port(container);
    port.as_u64() == Some(number) || (port.is_string() && port.as_str() == name.as_deref())
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"].as_array()?.iter().find(|e| e["name"] == name)
}

fn env_names(container: &Value) -> Vec<&str> {
    container["env"].as_array().into_iter().flatten().map(|e| str_of(&e["name"], "env name")).collect()
}

fn example_secret() -> Value {
    let docs = yaml_documents(SECRET_EXAMPLE);
    assert_eq!(docs.len(), 1, "{SECRET_EXAMPLE} holds one Secret");
    let secret = docs.into_iter().next().expect("one document");
    assert_eq!(secret["kind"], "Secret");
    secret
}

fn secret_keys(secret: &Value) -> BTreeSet<String> {
    ["stringData", "data"].iter().filter_map(|f| secret[*f].as_object()).flat_map(|m| m.keys().cloned()).collect()
}

/// One `[[instances]]` table of the instances file: its `key = value` lines, values as written.
type InstanceTable = std::collections::BTreeMap<String, String>;

/// The `[[instances]]` tables and the `[chats]` aliases' instances of a SENDCONTACT_CONFIG
/// file, read line by line: enough for the example, whose values are one line each.
fn instances_file(text: &str) -> (Vec<InstanceTable>, Vec<String>) {
    let mut instances: Vec<InstanceTable> = Vec::new();
    let mut alias_targets = Vec::new();
    let mut section = "";
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with('[') {
            section = line;
            if line == "[[instances]]" {
                instances.push(InstanceTable::new());
            }
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("`key = value`: {line}"));
        let value = value.split(" #").next().unwrap_or_default().trim();
        match section {
            "[[instances]]" => {
                let table = instances.last_mut().expect("inside an [[instances]] table");
                table.insert(key.trim().to_owned(), value.trim_matches('"').to_owned());
            }
            "[chats]" => {
                let target = value.split("instance = \"").nth(1).and_then(|v| v.split('"').next());
                alias_targets.push(target.unwrap_or_else(|| panic!("the alias names its instance: {line}")).to_owned());
            }
            other => panic!("unexpected section {other}"),
        }
    }
    (instances, alias_targets)
}

/// Whether the service's source reads the variable `name` (as a string or as a field of the
/// struct the environment is read into).
fn source_reads_variable(name: &str) -> bool {
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("src is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(fs::read_to_string(&path).expect("a source file"));
            }
        }
    }
    let mut sources = Vec::new();
    visit(&repo_path("src"), &mut sources);
    let quoted = format!("\"{name}\"");
    let field = format!("{}:", name.to_ascii_lowercase());
    sources.iter().any(|s| s.contains(&quoted) || s.contains(&field))
}

#[test]
fn kubernetes_variants_build_from_one_base() {
    for name in VARIANTS {
        let docs = variant(name);
        for doc in &docs {
            assert!(doc["apiVersion"].is_string() && doc["kind"].is_string(), "{name}: apiVersion and kind: {doc}");
            assert!(doc["metadata"]["name"].is_string(), "{name}: metadata.name: {doc}");
        }
        for kind in ["Deployment", "Service", "PodDisruptionBudget", "ConfigMap"] {
            k8s_object(&docs, kind);
        }
        assert!(docs.iter().all(|d| d["kind"] != "Secret"), "{name}: applying a variant never writes a Secret");
        let ingresses = docs.iter().filter(|d| d["kind"] == "Ingress").count();
        let expected = if name == "http" { 1 } else { 0 };
        assert_eq!(ingresses, expected, "{name}: only the HTTP variant publishes an Ingress");

        let deployment = k8s_object(&docs, "Deployment");
        assert_eq!(deployment["apiVersion"], "apps/v1");
        assert!(selects_pods(&deployment["spec"]["selector"]["matchLabels"], deployment), "selector matches pods");
    }
}

#[test]
fn kubernetes_example_secret_is_never_applied_with_the_example() {
    let secret = example_secret();
    let docs = variant("socket-mode");
    let c = container(k8s_object(&docs, "Deployment"));
    let refs: Vec<&str> =
        c["envFrom"].as_array().into_iter().flatten().filter_map(|s| s["secretRef"]["name"].as_str()).collect();
    assert_eq!(refs, [str_of(&secret["metadata"]["name"], "Secret name")], "the pods read the example's Secret");

    // `kubectl apply -f deploy/kubernetes/` takes only the files directly in it: there are none.
    for entry in fs::read_dir(repo_path(K8S_DIR)).expect("deploy/kubernetes exists").flatten() {
        let path = entry.path();
        assert!(path.is_dir(), "{} would be applied by `kubectl apply -f {K8S_DIR}/`", path.display());
    }
    // No applied directory holds a Secret, and no kustomization names the example.
    for dir in ["base", "socket-mode", "http"] {
        for entry in fs::read_dir(repo_path(&format!("{K8S_DIR}/{dir}"))).expect("variant directory").flatten() {
            let text = fs::read_to_string(entry.path()).expect("a text file");
            let mut lines = text.lines().map(str::trim).filter(|l| !l.starts_with('#'));
            assert!(
                !lines.any(|l| l.contains("kind: Secret") || l.contains("secret.example")),
                "{} holds or names a Secret",
                entry.path().display()
            );
        }
    }
}

#[test]
fn kubernetes_probes_use_healthz_and_readyz_on_the_container_port() {
    for name in VARIANTS {
        let docs = variant(name);
        let c = container(k8s_object(&docs, "Deployment"));
        let (port, _) = container_port(c);
        assert_eq!(port, 8080, "the image listens on 8080");
        assert_eq!(env_value(c, "PORT").map(|e| &e["value"]), Some(&json!("8080")), "PORT is the container port");
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &c[probe]["httpGet"];
            assert_eq!(get["path"], path, "{probe} path");
            assert!(is_container_port(&get["port"], c), "{probe} probes the container port, not {}", get["port"]);
        }
    }
}

#[test]
fn kubernetes_grace_period_outlasts_the_shutdown_drain() {
    let docs = variant("socket-mode");
    let deployment = k8s_object(&docs, "Deployment");
    let c = container(deployment);
    // The service drains for up to GREEN_API_TIMEOUT_MS + 10 s after SIGTERM (20 s by default).
    let timeout_ms: u64 = env_value(c, "GREEN_API_TIMEOUT_MS")
        .map(|e| str_of(&e["value"], "GREEN_API_TIMEOUT_MS").parse().expect("GREEN_API_TIMEOUT_MS is a number"))
        .unwrap_or(10_000);
    let drain_s = timeout_ms.div_ceil(1000) + 10;
    assert!(drain_s >= 20);
    // A preStop sleep (if any) runs before SIGTERM and counts against the same period.
    let pre_stop_s = c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().unwrap_or(0);
    let grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("terminationGracePeriodSeconds is set (Kubernetes' default is 30 s)");
    assert!(
        grace > pre_stop_s + drain_s,
        "terminationGracePeriodSeconds {grace} must exceed preStop {pre_stop_s} s + drain {drain_s} s"
    );
}

#[test]
fn kubernetes_secrets_come_from_the_secret_only() {
    let secret = example_secret();
    let keys = secret_keys(&secret);
    let docs = variant("socket-mode");
    let deployment = k8s_object(&docs, "Deployment");
    let c = container(deployment);

    // Socket Mode as the example ships; the HTTP variant swaps the app token for the signing
    // secret, which the example shows as a comment.
    assert!(keys.contains("SLACK_APP_TOKEN"), "the example Secret holds SLACK_APP_TOKEN");
    assert!(read(SECRET_EXAMPLE).contains("# SLACK_SIGNING_SECRET: "), "the example shows the HTTP variant's secret");

    for var in SECRET_VARS {
        if let Some(e) = env_value(c, var) {
            assert!(e.get("value").is_none(), "{var} is a literal in the Deployment env");
        }
    }
    for var in c["env"].as_array().into_iter().flatten() {
        let name = str_of(&var["name"], "env name");
        if name.contains("SECRET") || name.contains("TOKEN") || name.contains("PASSWORD") {
            assert!(var.get("value").is_none(), "{name} looks secret and is a literal in the Deployment");
        }
        if let Some(key_ref) = var["valueFrom"].get("secretKeyRef") {
            assert_eq!(key_ref["name"], secret["metadata"]["name"], "{name} refers to the example's Secret");
            assert!(keys.contains(str_of(&key_ref["key"], "secretKeyRef key")), "{name}: key in the Secret");
        }
    }
    // No placeholder value leaked into what is applied.
    let applied = serde_json::to_string(&docs).expect("JSON");
    for value in secret["stringData"].as_object().expect("stringData").values() {
        assert!(!applied.contains(str_of(value, "a secret value")), "a Secret value appears in the applied objects");
    }
}

#[test]
fn kubernetes_env_names_are_variables_the_service_reads() {
    let docs = variant("socket-mode");
    let c = container(k8s_object(&docs, "Deployment"));
    let config = k8s_object(&docs, "ConfigMap");
    let (instances, _) = instances_file(str_of(&config["data"]["instances.toml"], "instances.toml"));
    let token_envs: BTreeSet<&str> = instances.iter().map(|i| i["token_env"].as_str()).collect();
    let secret = example_secret();
    let keys = secret_keys(&secret);

    for name in env_names(c).into_iter().chain(keys.iter().map(String::as_str)) {
        if token_envs.contains(name) {
            continue;
        }
        assert!(source_reads_variable(name), "{name} is set in the example, but the service does not read it");
    }
    // Every token the instances file names is in the Secret, and nothing else hides there.
    for token_env in &token_envs {
        assert!(keys.contains(*token_env), "the Secret provides {token_env}, named by instances.toml");
    }
}

#[test]
fn kubernetes_instances_file_is_mounted_where_sendcontact_config_points() {
    let docs = variant("socket-mode");
    let deployment = k8s_object(&docs, "Deployment");
    let c = container(deployment);
    let config = k8s_object(&docs, "ConfigMap");
    let config_name = str_of(&config["metadata"]["name"], "ConfigMap name");

    let path = str_of(&env_value(c, "SENDCONTACT_CONFIG").expect("SENDCONTACT_CONFIG is set")["value"], "path");
    let (dir, file) = path.rsplit_once('/').expect("an absolute path");
    let volumes = deployment["spec"]["template"]["spec"]["volumes"].as_array().expect("volumes");
    let volume = volumes.iter().find(|v| v["configMap"]["name"] == config_name).expect("a volume of the ConfigMap");
    let mount = c["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == volume["name"]))
        .expect("the container mounts the instances volume");
    assert_eq!(mount["mountPath"], dir, "mounted where SENDCONTACT_CONFIG points");
    assert_eq!(mount["readOnly"], json!(true));
    assert!(config["data"].get(file).is_some(), "the ConfigMap has the key {file}");
}

#[test]
fn kubernetes_instances_file_holds_no_secret_and_shares_the_rate_limit() {
    let docs = variant("socket-mode");
    let deployment = k8s_object(&docs, "Deployment");
    let text = str_of(&k8s_object(&docs, "ConfigMap")["data"]["instances.toml"], "instances.toml").to_owned();
    let (instances, alias_targets) = instances_file(&text);
    assert!(instances.len() >= 2, "the example shows several instances");
    let replicas = deployment["spec"]["replicas"].as_u64().expect("replicas is set");
    assert!(replicas >= 2, "the example runs several replicas");

    let names: BTreeSet<&str> = instances.iter().map(|i| i["name"].as_str()).collect();
    assert_eq!(names.len(), instances.len(), "instance names are unique");
    for instance in &instances {
        let name = &instance["name"];
        for key in ["url", "id_instance", "token_env", "kind", "max_rps"] {
            assert!(instance.contains_key(key), "instance {name} sets {key}");
        }
        assert!(instance.keys().all(|k| !k.contains("token") || k == "token_env"), "{name}: no token in the file");
        assert!(instance["url"].starts_with("https://"), "{name}: GREEN-API is reached over HTTPS");
        // GREEN-API allows 50 calls/s per instance; each replica limits itself on its own.
        let max_rps: u64 = instance["max_rps"].parse().expect("max_rps is a number");
        assert!(max_rps * replicas <= 50, "{name}: max_rps {max_rps} x {replicas} replicas exceeds 50 per second");
    }
    for target in alias_targets {
        assert!(names.contains(target.as_str()), "the alias points at a configured instance ({target})");
    }
    // The default for instances without max_rps is shared the same way.
    if let Some(e) = env_value(container(deployment), "GREEN_API_MAX_RPS") {
        let max_rps: u64 = str_of(&e["value"], "GREEN_API_MAX_RPS").parse().expect("GREEN_API_MAX_RPS is a number");
        assert!(max_rps * replicas <= 50, "GREEN_API_MAX_RPS {max_rps} x {replicas} replicas exceeds 50 per second");
    }
}

#[test]
fn kubernetes_instances_file_is_read_by_the_services_own_reader() {
    use slack_sendcontact::instances::{Defaults, parse_file};
    let docs = variant("socket-mode");
    let text = str_of(&k8s_object(&docs, "ConfigMap")["data"]["instances.toml"], "instances.toml").to_owned();
    let secret = example_secret();
    let keys = secret_keys(&secret);
    // Every token_env must be a key of the Secret (whose placeholders are not tokens, so a
    // valid one stands in).
    let env = |name: &str| keys.contains(name).then(|| "0123456789abcdef".to_owned());
    let defaults = Defaults { timeout: std::time::Duration::from_secs(10), max_rps: 50.try_into().unwrap() };
    let config = parse_file(&text, &env, defaults).unwrap_or_else(|problems| {
        panic!("instances.toml: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    });
    let replicas = k8s_object(&docs, "Deployment")["spec"]["replicas"].as_u64().expect("replicas is set");
    for instance in &config.instances {
        let max_rps = u64::from(instance.green_api.max_rps.get());
        assert!(max_rps * replicas <= 50, "{}: max_rps {max_rps} x {replicas} replicas exceeds 50", instance.name);
    }
}

#[test]
fn kubernetes_pods_spread_over_nodes_and_survive_a_drain() {
    let docs = variant("socket-mode");
    let deployment = k8s_object(&docs, "Deployment");
    let replicas = deployment["spec"]["replicas"].as_u64().expect("replicas is set");

    let pdb = k8s_object(&docs, "PodDisruptionBudget");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert!(selects_pods(&pdb["spec"]["selector"]["matchLabels"], deployment), "the PDB selects the pods");
    let min_available = pdb["spec"]["minAvailable"].as_u64().expect("minAvailable is a number of pods");
    assert!(min_available >= 1, "a drain leaves a replica running");
    assert!(min_available < replicas, "a drain can still evict a pod ({min_available} of {replicas} must stay)");

    let constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        .as_array()
        .expect("topologySpreadConstraints");
    let by_node =
        constraints.iter().find(|c| c["topologyKey"] == "kubernetes.io/hostname").expect("the pods spread over nodes");
    assert!(selects_pods(&by_node["labelSelector"]["matchLabels"], deployment), "the spread counts these pods");
    assert_eq!(by_node["maxSkew"], json!(1));
    assert_eq!(by_node["whenUnsatisfiable"], "ScheduleAnyway", "a one-node cluster still runs every replica");
}

#[test]
fn kubernetes_service_targets_the_container_port() {
    for name in VARIANTS {
        let docs = variant(name);
        let deployment = k8s_object(&docs, "Deployment");
        let c = container(deployment);
        let service = k8s_object(&docs, "Service");
        assert!(selects_pods(&service["spec"]["selector"], deployment), "the Service selects the pods");
        let ports = service["spec"]["ports"].as_array().expect("Service ports");
        assert!(
            ports.iter().any(|p| is_container_port(&p["targetPort"], c)),
            "a Service port targets the container port: {ports:?}"
        );
        assert!(
            matches!(service["spec"]["type"].as_str(), None | Some("ClusterIP")),
            "the Service stays inside the cluster (an Ingress publishes it)"
        );
    }
}

#[test]
fn kubernetes_ingress_publishes_only_slacks_routes_over_tls() {
    let docs = variant("http");
    let service = k8s_object(&docs, "Service");
    let ingress = k8s_object(&docs, "Ingress");
    assert_eq!(ingress["apiVersion"], "networking.k8s.io/v1");
    let rules = ingress["spec"]["rules"].as_array().expect("Ingress rules");
    assert_eq!(rules.len(), 1);
    let host = str_of(&rules[0]["host"], "Ingress host");
    let tls_hosts = ingress["spec"]["tls"][0]["hosts"].as_array().expect("the Ingress terminates TLS");
    assert!(tls_hosts.contains(&json!(host)), "TLS covers {host}");
    // The same placeholder as manifest.yml, so one search-and-replace finds both.
    let manifest_url = str_of(&slash_command(&yaml("manifest.yml"))["url"], "manifest url").to_owned();
    assert!(manifest_url.starts_with(&format!("https://{host}/")), "manifest.yml and the Ingress name one host");

    let paths: Vec<&Value> = rules[0]["http"]["paths"].as_array().expect("paths").iter().collect();
    let published: BTreeSet<&str> = paths.iter().map(|p| str_of(&p["path"], "path")).collect();
    assert!(published.contains("/slack/commands"), "Slack's command route is published");
    // Every URL the Slack app calls (manifest.yml) reaches the service through the Ingress.
    let manifest = yaml("manifest.yml");
    let mut called: Vec<&str> = vec![str_of(&slash_command(&manifest)["url"], "command url")];
    if let Some(url) = manifest["settings"]["interactivity"]["request_url"].as_str() {
        called.push(url);
    }
    for url in called {
        let path = url.strip_prefix(&format!("https://{host}")).unwrap_or_else(|| panic!("{url} is on {host}"));
        assert!(published.contains(path), "the Ingress publishes {path}, which the Slack app calls");
    }
    assert!(published.iter().all(|p| p.starts_with("/slack/")), "only Slack's routes are public: {published:?}");
    let service_ports = service["spec"]["ports"].as_array().expect("Service ports");
    for path in paths {
        assert_eq!(path["pathType"], "Exact");
        let backend = &path["backend"]["service"];
        assert_eq!(backend["name"], service["metadata"]["name"], "the Ingress sends to the Service");
        let port = &backend["port"];
        assert!(
            service_ports.iter().any(|p| p["name"] == port["name"] || p["port"] == port["number"]),
            "the Ingress names a port of the Service: {port}"
        );
    }
}

#[test]
fn kubernetes_pods_run_locked_down() {
    let docs = variant("socket-mode");
    let deployment = k8s_object(&docs, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let c = container(deployment);
    let sc = &c["securityContext"];
    let run_as_non_root = sc["runAsNonRoot"].as_bool().or(pod["securityContext"]["runAsNonRoot"].as_bool());
    assert_eq!(run_as_non_root, Some(true), "runAsNonRoot");
    for uid in [&sc["runAsUser"], &pod["securityContext"]["runAsUser"]] {
        assert_ne!(uid.as_u64(), Some(0), "runAsUser is not root");
    }
    assert_eq!(sc["readOnlyRootFilesystem"], json!(true));
    assert_eq!(sc["allowPrivilegeEscalation"], json!(false));
    assert!(
        sc["capabilities"]["drop"].as_array().is_some_and(|d| d.contains(&json!("ALL"))),
        "all capabilities are dropped"
    );
    for kind in ["requests", "limits"] {
        for res in ["cpu", "memory"] {
            assert!(c["resources"][kind][res].is_string(), "resources.{kind}.{res} is set");
        }
    }
}

// ------------------------------------------------------------------------ Dockerfile

#[test]
fn dockerfile_builds_without_a_registry_and_runs_as_non_root() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile.lines().map(str::trim).collect();
    assert!(
        !lines.iter().any(|l| l.to_ascii_lowercase().starts_with("# syntax")),
        "no `# syntax=` line: BuildKit would pull the frontend image"
    );
    assert!(!dockerfile.contains("@sha256:"), "no digests: local stand-in base images must match by tag");
    assert!(!dockerfile.contains("--mount="), "no BuildKit-only RUN --mount");
    for arg in ["ARG RUST_IMAGE=rust:1.95-slim-bookworm", "ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot"] {
        assert!(lines.contains(&arg), "Dockerfile has `{arg}`");
    }
    // The binary is built by the script the load benchmark also uses, so
    // what is measured is what ships: locked, static-pie on glibc, and
    // profile-guided, trained by the load tools in the builder.
    assert!(dockerfile.contains("COPY tools/Cargo.toml tools/docker-dummy-targets.sh tools/build-release.sh tools/"));
    assert!(dockerfile.contains(r#"cp "$(sh tools/build-release.sh)" /slack-sendcontact"#));
    assert!(dockerfile.contains("COPY tools/pgo ./tools/pgo"), "the training script is in the builder");
    assert!(dockerfile.contains("rustup component add llvm-tools"), "llvm-profdata is in the builder");
    let build = read("tools/build-release.sh");
    assert!(build.contains("cargo build --profile \"$profile\" --locked"), "the release build is --locked");
    assert!(build.contains("+crt-static"), "glibc is linked in");
    assert!(build.contains("pgo=${PGO:-1}") && build.contains("-C profile-use="), "profile-guided by default");
    let user = lines.iter().rev().find_map(|l| l.strip_prefix("USER ")).expect("the runtime stage sets USER");
    assert!(!matches!(user.split(':').next(), Some("0" | "root")), "USER {user} is not root");
    assert!(lines.contains(&"EXPOSE 8080"));
    assert!(
        dockerfile.contains(r#"CMD ["/usr/local/bin/slack-sendcontact", "healthcheck"]"#),
        "HEALTHCHECK runs the binary's healthcheck subcommand (no shell, no curl in the image)"
    );
    assert!(lines.contains(&"STOPSIGNAL SIGTERM"));
    assert!(lines.contains(&r#"ENTRYPOINT ["/usr/local/bin/slack-sendcontact"]"#));
    assert!(lines.contains(&r#"CMD ["serve"]"#));
}

/// The `[package]` field `key` of Cargo.toml (a plain `key = "value"` line).
fn cargo_package_field(key: &str) -> String {
    let manifest = read("Cargo.toml");
    let package = manifest.split("\n[").find(|s| s.starts_with("[package]") || s.starts_with("package]"));
    let package = package.expect("Cargo.toml has a [package] table");
    package
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("Cargo.toml's [package] has {key}"))
}

#[test]
fn the_image_is_labelled_with_version_revision_source_and_licenses() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile.lines().map(str::trim).collect();
    let version = cargo_package_field("version");
    assert!(
        lines.contains(&format!("ARG VERSION={version}").as_str()),
        "the Dockerfile's VERSION defaults to Cargo.toml's version {version}"
    );
    assert!(lines.contains(&"ARG REVISION=unknown"), "REVISION defaults to `unknown`, as the binary reports it");
    let licenses = cargo_package_field("license");
    for (label, value) in [
        ("title", "\"slack-sendcontact\"".to_owned()),
        ("version", "\"${VERSION}\"".to_owned()),
        ("revision", "\"${REVISION}\"".to_owned()),
        ("source", "\"${SOURCE}\"".to_owned()),
        ("licenses", format!("\"{licenses}\"")),
    ] {
        let needle = format!("org.opencontainers.image.{label}={value}");
        assert!(dockerfile.contains(&needle), "the image carries the label `{needle}`");
    }
    assert!(dockerfile.contains("org.opencontainers.image.description="), "the image has a description label");
    // The build argument reaches the compiler, which reads it with option_env!.
    assert!(lines.contains(&"ENV GIT_REVISION=${REVISION}"), "the builder passes REVISION on as GIT_REVISION");
}

#[test]
fn license_files_match_cargo_toml() {
    assert_eq!(cargo_package_field("license"), "MIT OR Apache-2.0");
    let mit = read("LICENSE-MIT");
    assert!(mit.contains("Copyright (c) 2026 The slack-sendcontact authors"), "LICENSE-MIT names the copyright holder");
    assert!(mit.contains("Permission is hereby granted, free of charge"), "LICENSE-MIT is the MIT license");
    let apache = read("LICENSE-APACHE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"), "LICENSE-APACHE is the whole license text");
    // Both travel inside the image, next to the binary they license.
    assert!(read("Dockerfile").contains("COPY LICENSE-MIT LICENSE-APACHE "), "the image carries the license files");
    assert!(!read(".dockerignore").lines().any(|l| l.trim().starts_with("LICENSE")), "the build context keeps them");
}

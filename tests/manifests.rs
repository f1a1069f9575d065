//! Checks the files an admin deploys with, without any network or cluster:
//! - `manifest.yml` and `manifest.socket-mode.yml`, the Slack app manifests (HTTP and
//!   Socket Mode): valid against Slack's manifest schema 1.0.0 (vendored in
//!   tests/fixtures/slack-manifest-schema), and declaring the command as the service
//!   expects it;
//! - `deploy/kubernetes.yml`, the example for several replicas: probes, grace period,
//!   secrets, the instances file (read by the service's own reader), Service and security
//!   settings consistent with the service's behaviour;
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

const K8S: &str = "deploy/kubernetes.yml";

/// The SENDCONTACT_CONFIG file the Deployment mounts, if it uses one: its
/// text from the ConfigMap, found through the volume that SENDCONTACT_CONFIG's
/// path lies in.
fn instances_file(docs: &[Value]) -> Option<String> {
    let deployment = k8s_object(docs, "Deployment");
    let c = container(deployment);
    let path = str_of(&env_value(c, "SENDCONTACT_CONFIG")?["value"], "SENDCONTACT_CONFIG").to_owned();
    let mount = c["volumeMounts"]
        .as_array()
        .expect("SENDCONTACT_CONFIG's file is mounted")
        .iter()
        .find(|m| path.starts_with(&format!("{}/", str_of(&m["mountPath"], "mountPath"))))
        .unwrap_or_else(|| panic!("no volumeMount holds {path}"));
    let key = &path[str_of(&mount["mountPath"], "mountPath").len() + 1..];
    let volume = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("the pod has volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume is declared");
    let config_map = k8s_object(docs, "ConfigMap");
    assert_eq!(volume["configMap"]["name"], config_map["metadata"]["name"], "the volume is this file's ConfigMap");
    Some(str_of(&config_map["data"][key], "the ConfigMap's file").to_owned())
}

/// What `serve` needs (contract: required configuration), and which of it is
/// secret: the signing secret, and the GREEN-API coordinates or the tokens
/// SENDCONTACT_CONFIG's file names.
fn required_and_secret_vars(docs: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut required = vec!["SLACK_SIGNING_SECRET".to_owned()];
    let mut secret = vec!["SLACK_SIGNING_SECRET".to_owned()];
    match instances_file(docs) {
        Some(file) => {
            let tokens: Vec<String> = file
                .lines()
                .filter_map(|l| l.trim().strip_prefix("token_env"))
                .map(|rest| rest.trim_start_matches([' ', '=']).trim().trim_matches('"').to_owned())
                .collect();
            assert!(!tokens.is_empty(), "the file names its tokens with token_env");
            required.push("SENDCONTACT_CONFIG".to_owned());
            required.extend(tokens.iter().cloned());
            secret.extend(tokens);
        }
        None => {
            required.extend(["GREEN_API_URL", "GREEN_API_ID_INSTANCE", "GREEN_API_TOKEN_INSTANCE"].map(String::from));
            secret.push("GREEN_API_TOKEN_INSTANCE".to_owned());
        }
    }
    (required, secret)
}

fn k8s_object<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "{K8S} has exactly one {kind}");
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

#[test]
fn kubernetes_example_has_secret_config_map_deployment_and_service() {
    let docs = yaml_documents(K8S);
    for doc in &docs {
        assert!(doc["apiVersion"].is_string() && doc["kind"].is_string(), "apiVersion and kind: {doc}");
        assert!(doc["metadata"]["name"].is_string(), "metadata.name: {doc}");
    }
    let kinds: BTreeSet<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    for kind in ["Secret", "ConfigMap", "Deployment", "Service"] {
        assert!(kinds.contains(kind), "{K8S} has a {kind}: {kinds:?}");
    }
    let deployment = k8s_object(&docs, "Deployment");
    assert_eq!(deployment["apiVersion"], "apps/v1");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (k, v) in deployment["spec"]["selector"]["matchLabels"].as_object().expect("matchLabels") {
        assert_eq!(&labels[k], v, "the Deployment's selector matches its pod labels");
    }
}

#[test]
fn kubernetes_probes_use_healthz_and_readyz_on_the_container_port() {
    let docs = yaml_documents(K8S);
    let c = container(k8s_object(&docs, "Deployment"));
    let (port, _) = container_port(c);
    assert_eq!(port, 8080, "the image listens on 8080");
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe} path");
        assert!(is_container_port(&get["port"], c), "{probe} probes the container port, not {}", get["port"]);
    }
}

#[test]
fn kubernetes_grace_period_outlasts_the_shutdown_drain() {
    let docs = yaml_documents(K8S);
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
    let docs = yaml_documents(K8S);
    let secret = k8s_object(&docs, "Secret");
    let secret_name = str_of(&secret["metadata"]["name"], "Secret name");
    let secret_keys: BTreeSet<String> =
        ["stringData", "data"].iter().filter_map(|f| secret[*f].as_object()).flat_map(|m| m.keys().cloned()).collect();
    let c = container(k8s_object(&docs, "Deployment"));

    // Everything `serve` requires is provided: by envFrom of our Secret, or by env.
    let mut provided = BTreeSet::new();
    for source in c["envFrom"].as_array().into_iter().flatten() {
        if let Some(name) = source["secretRef"]["name"].as_str() {
            assert_eq!(name, secret_name, "envFrom refers to the Secret of this file");
            provided.extend(secret_keys.iter().cloned());
        }
    }
    for var in c["env"].as_array().into_iter().flatten() {
        let name = str_of(&var["name"], "env name");
        if let Some(key_ref) = var["valueFrom"].get("secretKeyRef") {
            assert_eq!(key_ref["name"], secret_name, "{name} refers to the Secret of this file");
            assert!(secret_keys.contains(str_of(&key_ref["key"], "secretKeyRef key")), "{name}: key in the Secret");
        }
        provided.insert(name.to_owned());
    }
    let (required, secret_vars) = required_and_secret_vars(&docs);
    for var in &required {
        assert!(provided.contains(var), "the Deployment provides {var}");
    }

    // No secret value is written into the Deployment: not as an env literal, nor anywhere
    // else in it as text.
    for var in &secret_vars {
        let var = var.as_str();
        assert!(secret_keys.contains(var), "the Secret holds {var}");
        if let Some(e) = env_value(c, var) {
            assert!(e.get("value").is_none(), "{var} is a literal in the Deployment env");
            assert!(e["valueFrom"].get("secretKeyRef").is_some(), "{var} comes from a secretKeyRef");
        }
        let value = secret["stringData"][var].as_str().unwrap_or_default();
        if !value.is_empty() {
            let deployment_text = k8s_object(&docs, "Deployment").to_string();
            assert!(!deployment_text.contains(value), "the value of {var} appears in the Deployment");
            let file = instances_file(&docs).unwrap_or_default();
            assert!(!file.contains(value), "the value of {var} appears in SENDCONTACT_CONFIG's file");
        }
    }
    for var in c["env"].as_array().into_iter().flatten() {
        let name = str_of(&var["name"], "env name");
        if name.contains("SECRET") || name.contains("TOKEN") || name.contains("PASSWORD") {
            assert!(var.get("value").is_none(), "{name} looks secret and is a literal in the Deployment");
        }
    }
}

#[test]
fn kubernetes_service_targets_the_container_port() {
    let docs = yaml_documents(K8S);
    let deployment = k8s_object(&docs, "Deployment");
    let c = container(deployment);
    let service = k8s_object(&docs, "Service");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let selector = service["spec"]["selector"].as_object().expect("the Service has a selector");
    assert!(!selector.is_empty());
    for (k, v) in selector {
        assert_eq!(&pod_labels[k], v, "the Service selects the Deployment's pods ({k})");
    }
    let ports = service["spec"]["ports"].as_array().expect("Service ports");
    assert!(
        ports.iter().any(|p| is_container_port(&p["targetPort"], c)),
        "a Service port targets the container port: {ports:?}"
    );
    assert!(
        matches!(service["spec"]["type"].as_str(), None | Some("ClusterIP")),
        "the example Service stays inside the cluster (an Ingress publishes it)"
    );
}

#[test]
fn kubernetes_pods_run_locked_down_and_share_the_rate_limit() {
    let docs = yaml_documents(K8S);
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

    // GREEN-API allows 50 calls/s per instance; each replica limits itself on its own.
    let replicas = deployment["spec"]["replicas"].as_u64().expect("replicas is set");
    assert!(replicas >= 2, "the example runs several replicas");
    let max_rps: u64 = env_value(c, "GREEN_API_MAX_RPS")
        .map(|e| str_of(&e["value"], "GREEN_API_MAX_RPS").parse().expect("GREEN_API_MAX_RPS is a number"))
        .unwrap_or(50);
    assert!(
        max_rps * replicas <= 50,
        "GREEN_API_MAX_RPS {max_rps} x {replicas} replicas exceeds GREEN-API's 50 per second"
    );
}

#[test]
fn kubernetes_instances_file_is_valid_and_its_instances_share_the_rate_limit() {
    use slack_sendcontact::instances::{Defaults, parse_file};
    let docs = yaml_documents(K8S);
    let Some(file) = instances_file(&docs) else { return };
    let secret = k8s_object(&docs, "Secret");
    // The service's own reader: every token_env must be a key of the Secret
    // (whose placeholders are not tokens, so a valid one stands in).
    let env = |name: &str| secret["stringData"].get(name).map(|_| "0123456789abcdef".to_owned());
    let defaults = Defaults { timeout: std::time::Duration::from_secs(10), max_rps: 50.try_into().unwrap() };
    let config = parse_file(&file, &env, defaults).unwrap_or_else(|problems| {
        panic!("SENDCONTACT_CONFIG's file: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
    });
    let replicas = k8s_object(&docs, "Deployment")["spec"]["replicas"].as_u64().expect("replicas is set");
    for instance in &config.instances {
        let max_rps = u64::from(instance.green_api.max_rps.get());
        assert!(max_rps * replicas <= 50, "{}: max_rps {max_rps} x {replicas} replicas exceeds 50", instance.name);
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
    assert!(dockerfile.contains("cargo build --release --locked"));
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

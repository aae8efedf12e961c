//! SARIF 2.1.0 output: the bundled example's log validates against the official OASIS
//! schema (`tests/data/sarif-schema-2.1.0.json`), every lint is a rule, results point at
//! the findings with UTF-16 columns, and fingerprints survive lines inserted above.

use std::path::Path;

use serde_json::Value;

#[path = "support/run.rs"]
mod run;

use run::{copy_dir, taskcheck};

fn sarif(dir: &Path, path: &str) -> Value {
    let out = taskcheck(dir, &["--message-format", "sarif", path]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("the SARIF log is JSON")
}

#[test]
fn the_example_validates_against_the_sarif_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let log = sarif(root, "examples/leaky-service");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/data/sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "SARIF schema violations:\n{}", errors.join("\n"));

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), taskcheck_lints::all_metas().len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 19);
    let lost = results.iter().find(|r| r["ruleId"] == "lost_cancel").unwrap();
    let loc = &lost["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "examples/leaky-service/src/server.rs");
    assert_eq!(loc["region"]["startLine"], 44);
    assert_eq!(rules[lost["ruleIndex"].as_u64().unwrap() as usize]["id"], "lost_cancel");
    assert!(lost["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "_guard");
}

#[test]
fn fingerprints_survive_lines_inserted_above() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/leaky-service"), tmp.path());
    let prints = |log: &Value| -> Vec<(String, u64, String)> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let loc = &r["locations"][0]["physicalLocation"];
                (
                    loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    loc["region"]["startLine"].as_u64().unwrap(),
                    r["partialFingerprints"]["taskcheck/v1"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let before = prints(&sarif(tmp.path(), "."));
    let notify = tmp.path().join("src/notify.rs");
    let text = std::fs::read_to_string(&notify).unwrap();
    std::fs::write(&notify, format!("// A licence header\n// added later\n\n{text}")).unwrap();
    let after = prints(&sarif(tmp.path(), "."));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.2, a.2, "{b:?} -> {a:?}");
        if b.0.ends_with("notify.rs") {
            assert_eq!(a.1, b.1 + 3);
        }
    }
    let mut unique: Vec<&String> = after.iter().map(|p| &p.2).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), after.len(), "fingerprints are unique");
}

//! The HCL rewriter: arbitrary `.tf` text through `hcl_migrate::plan_migration` (there is no
//! in-memory entry point, so each input is written to `main.tf` in a per-process temporary
//! directory, on tmpfs when there is one), then the diff, and a second planning run over the
//! rewritten text, which must parse. The first input byte picks the options: without a secret
//! prefix, or with one (so `terraform_data` arguments and root outputs move into
//! `offstate_secret` resources), all conversions on or only some.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

thread_local! {
    static DIR: tempfile::TempDir = {
        let shm = std::path::Path::new("/dev/shm");
        if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }
            .expect("temporary directory")
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    // plan_migration reads .tf files as UTF-8 (an error otherwise): keep inputs that reach the parser.
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let dir: PathBuf = DIR.with(|d| d.path().to_path_buf());
    let file = dir.join("main.tf");
    std::fs::write(&file, text).expect("write main.tf");
    let opts = hcl_migrate::Options {
        recursive: false,
        ephemeral: choice & 2 == 0,
        offstate_secret: choice & 4 == 0,
        secret_prefix: (choice & 1 == 1).then(|| "fuzz/app".to_string()),
    };
    let Ok(plan) = hcl_migrate::plan_migration(&dir, &opts) else {
        return;
    };
    // A check that picks some literals, so both the masked and the plain paths run.
    let _ = plan.unified_diff(&|_, literal: &str| literal.len() % 2 == 0);
    if let Some(change) = plan.files.first() {
        // The rewrite is Terraform text again: it must plan without error.
        std::fs::write(&file, &change.rewritten).expect("write main.tf");
        if let Err(e) = hcl_migrate::plan_migration(&dir, &opts) {
            panic!("the rewritten file does not parse: {e}");
        }
    }
});

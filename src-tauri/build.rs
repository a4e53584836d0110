use std::path::Path;

fn main() {
    // tauri-build's own error for a missing frontendDist is obscure; say how to fix it.
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !dist.join("index.html").is_file() {
        panic!(
            "the UI is not built: {} has no index.html. Run `npm --prefix ui ci && npm --prefix ui run build`, or scripts/setup.sh",
            dist.display()
        );
    }
    tauri_build::build()
}

// Rebuild when a migration is added, removed or edited (cargo scans the whole folder).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

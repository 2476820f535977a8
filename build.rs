// Embedded migrations are read at compile time: rebuild when a migration folder changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

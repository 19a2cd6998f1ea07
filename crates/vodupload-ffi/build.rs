//! Linker settings for libvodupload.so: the SONAME and a version script that exports only `vod_*`.

fn main() {
    println!("cargo:rerun-if-changed=vodupload.map");
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        // The ABI major version: bumped only if an export is ever removed or changed (see the
        // ABI policy in include/vodupload.h), never for additions.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvodupload.so.0");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/vodupload.map");
    }
}

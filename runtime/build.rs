//! Builds the runtime's wasm blob (`WASM_BINARY`) for the native crate; with the feature
//! `upgrade-test-wasm`, also the same runtime one `spec_version` up (`upgrade::WASM_BINARY`),
//! the code the runtime upgrade test sets. The second build shares the first one's target
//! directory: only this crate compiles again.

#[cfg(feature = "std")]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
	if std::env::var_os("CARGO_FEATURE_UPGRADE_TEST_WASM").is_some() {
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.enable_feature("spec-bump")
			.set_file_name("wasm_binary_upgrade.rs")
			.build();
	}
}

/// Building the runtime for wasm itself: nothing to do.
#[cfg(not(feature = "std"))]
fn main() {}

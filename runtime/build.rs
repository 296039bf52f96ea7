//! Builds the runtime's wasm blob (`WASM_BINARY`) for the native crate.

#[cfg(feature = "std")]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// Building the runtime for wasm itself: nothing to do.
#[cfg(not(feature = "std"))]
fn main() {}

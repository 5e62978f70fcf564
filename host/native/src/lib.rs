//! Is it native? The answers to the Apple Silicon questions, each from what the files and go say, never from names:
//!
//! - [`Machine`]: what this machine runs natively (and whether this process is translated, as under Rosetta);
//! - [`architectures`]: the architectures of an executable, object, universal Mach-O or static archive;
//! - [`installations`]: every Go installation found on PATH and in the usual places, with each executable's
//!   architecture;
//! - [`ArchdepsReport`]: from `go list -deps -json` per target, the packages that do not build for it, the ones that
//!   fall back to generic Go where the reference architecture has assembly, the cgo libraries and their
//!   architectures, and the package sets' difference.
//!
//! Nothing here runs go: the CLI runs it and hands the output over, so every answer is testable from fixtures.

mod archdeps;
mod machine;
mod objects;
mod platform;
mod toolchain;

/// `gohook archdeps`' analysis over go's package lists.
pub use archdeps::{
    Cgo, GO_LIST_FIELDS, Listing as ArchdepsListing, ListingError as ArchdepsListingError, Report as ArchdepsReport,
};
pub use gohook_sdk::inspect::{BuildInfo, ModuleDep};
pub use machine::Machine;
pub use objects::{ObjectError, Slice, architectures};
pub use platform::{BuiltFor, Platform, built_for};
/// The Go installations `gohook doctor` finds.
pub use toolchain::{Executable, Found, Installation, Places, installations};

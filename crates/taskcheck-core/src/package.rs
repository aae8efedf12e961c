//! Cargo package information for machine-readable output (filled in by the render helper).

//! Pages (next).

//! The `sluice.v1` protobuf contracts: gRPC services and queue payloads.
//!
//! Generated at build time from `proto/sluice/v1/*.proto`.

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("sluice.v1");
}

/// Encoded `FileDescriptorSet` of every `sluice.v1` file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sluice_descriptor.bin"));

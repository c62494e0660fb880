//! Which services the gateway serves, where each one lives, and their methods' shapes (from
//! the compiled descriptors: the JSON routes transcode by them and the proxy knows which
//! calls stream).

use prost_reflect::{DescriptorPool, MethodDescriptor};

/// The service that owns a public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    Orchestrator,
    Vectorizer,
}

impl Upstream {
    pub fn name(self) -> &'static str {
        match self {
            Upstream::Orchestrator => "orchestrator",
            Upstream::Vectorizer => "vectorizer",
        }
    }
}

/// Every public service and its owner. Internal services (ProgressService,
/// ConnectorService) are deliberately absent: the gateway never forwards them.
pub const PUBLIC_SERVICES: [(&str, Upstream); 9] = [
    ("sluice.v1.IntegrationService", Upstream::Orchestrator),
    ("sluice.v1.JobService", Upstream::Orchestrator),
    ("sluice.v1.CustomFieldService", Upstream::Orchestrator),
    ("sluice.v1.QueueService", Upstream::Orchestrator),
    ("sluice.v1.CatalogService", Upstream::Orchestrator),
    ("sluice.v1.AccountService", Upstream::Orchestrator),
    ("sluice.v1.NotificationService", Upstream::Orchestrator),
    ("sluice.v1.SearchService", Upstream::Vectorizer),
    ("sluice.v1.VectorizerService", Upstream::Vectorizer),
];

/// The public methods by path, with their descriptors.
pub struct Catalog {
    pool: DescriptorPool,
}

/// A public method a path names.
pub struct Method {
    pub upstream: Upstream,
    pub descriptor: MethodDescriptor,
}

impl Catalog {
    pub fn new() -> anyhow::Result<Catalog> {
        let pool = DescriptorPool::decode(sluice_proto::FILE_DESCRIPTOR_SET)?;
        for (name, _) in PUBLIC_SERVICES {
            anyhow::ensure!(
                pool.get_service_by_name(name).is_some(),
                "public service {name} is not in the compiled protos"
            );
        }
        Ok(Catalog { pool })
    }

    /// `/sluice.v1.JobService/RunJob` → the method, if it is public.
    pub fn method(&self, path: &str) -> Option<Method> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        let upstream = PUBLIC_SERVICES
            .iter()
            .find(|(name, _)| *name == service)
            .map(|(_, upstream)| *upstream)?;
        let descriptor = self
            .pool
            .get_service_by_name(service)?
            .methods()
            .find(|m| m.name() == method)?;
        Some(Method {
            upstream,
            descriptor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_methods_are_found() {
        let catalog = Catalog::new().unwrap();
        let run = catalog.method("/sluice.v1.JobService/RunJob").unwrap();
        assert_eq!(run.upstream, Upstream::Orchestrator);
        assert!(!run.descriptor.is_server_streaming());
        let watch = catalog.method("/sluice.v1.JobService/WatchJobs").unwrap();
        assert!(watch.descriptor.is_server_streaming());
        assert_eq!(
            catalog
                .method("/sluice.v1.SearchService/Search")
                .unwrap()
                .upstream,
            Upstream::Vectorizer
        );
        for internal in [
            "/sluice.v1.ProgressService/ReportProgress",
            "/sluice.v1.ConnectorService/TestConnection",
            "/sluice.v1.JobService/NoSuchMethod",
            "/nonsense",
        ] {
            assert!(catalog.method(internal).is_none(), "{internal}");
        }
    }
}

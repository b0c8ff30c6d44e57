//! The services the emulator serves, as the generated code describes them: where each
//! is reached, its name, its WSDL and its operations.

use payamak::{incoming_messages, send, OperationMeta, ServiceMeta};

use super::ops::{Route, ROUTES};

/// The path the endpoints are under, as on the panel.
pub(crate) const SERVICES_PATH: &str = "/post/";

/// One `.asmx` endpoint.
#[derive(Debug)]
pub(crate) struct Service {
    /// The service, as generated from its WSDL.
    pub(crate) meta: &'static ServiceMeta,
    /// Its operations, as generated from its WSDL.
    pub(crate) operations: &'static [&'static OperationMeta],
}

/// Every service the emulator serves.
pub(crate) static SERVICES: &[Service] = &[
    Service { meta: &send::SERVICE, operations: send::OPERATIONS },
    Service { meta: &incoming_messages::SERVICE, operations: incoming_messages::OPERATIONS },
];

impl Service {
    /// The service a request path names (`/post/<endpoint>`), matched case-insensitively
    /// as IIS does.
    pub(crate) fn from_path(path: &str) -> Option<&'static Service> {
        let path = path.trim_end_matches('/');
        let prefix = path.get(..SERVICES_PATH.len()).filter(|prefix| prefix.eq_ignore_ascii_case(SERVICES_PATH))?;
        let endpoint = path.get(prefix.len()..)?;
        SERVICES.iter().find(|service| service.meta.endpoint.eq_ignore_ascii_case(endpoint))
    }

    /// The `wsdl:service` name.
    pub(crate) fn name(&self) -> &'static str {
        self.meta.name
    }

    /// The operation names, for the service's help page.
    pub(crate) fn operation_names(&self) -> impl Iterator<Item = &'static str> {
        self.operations.iter().map(|operation| operation.name)
    }

    /// How the emulator answers each operation of the service.
    pub(crate) fn routes(&self) -> impl Iterator<Item = &'static Route> {
        let meta = self.meta;
        ROUTES.iter().filter(move |route| route.meta.service == meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(path: &str) -> Option<&'static str> {
        Service::from_path(path).map(Service::name)
    }

    #[test]
    fn paths_match_case_insensitively() {
        assert_eq!(served("/post/Send.asmx"), Some("Send"));
        assert_eq!(served("/POST/INCOMINGMESSAGES.ASMX"), Some("IncomingMessages"));
        assert_eq!(served("/post/send.asmx/"), Some("Send"));
        assert_eq!(served("/send.asmx"), None);
        assert_eq!(served("/post/"), None);
        assert_eq!(served("/post/send.asmx/GetCredit"), None);
    }

    #[test]
    fn every_service_is_reached_at_its_endpoint() {
        for service in SERVICES {
            let path = format!("{SERVICES_PATH}{}", service.meta.endpoint);
            assert_eq!(served(&path), Some(service.meta.name), "{path}");
        }
    }

    /// A regenerated WSDL with a new operation fails here until the operation has a route.
    #[test]
    fn the_routes_answer_exactly_the_generated_operations() {
        for service in SERVICES {
            let mut routed: Vec<&str> = service.routes().map(|route| route.meta.name).collect();
            let mut generated: Vec<&str> = service.operation_names().collect();
            routed.sort_unstable();
            generated.sort_unstable();
            assert_eq!(routed, generated, "the routes of {}", service.meta.name);
        }
        let operations: usize = SERVICES.iter().map(|service| service.operations.len()).sum();
        assert_eq!(ROUTES.len(), operations, "a route answers no operation of a served service");
    }
}

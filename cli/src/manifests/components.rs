//! What differs between the six controllers' workloads: ports, volumes, args, services.

use crate::manifests::ManifestError;

/// A Service in front of a controller port.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    pub name: &'static str,
    /// The container port name the Service targets.
    pub target_port: &'static str,
}

/// The install-time shape of one controller.
#[derive(Debug, Clone, Copy)]
pub struct ComponentSpec {
    pub name: &'static str,
    /// Extra named container ports besides `http-prom` (8080) and `healthz` (9440).
    pub ports: &'static [(&'static str, i32)],
    pub services: &'static [ServiceSpec],
    /// Keeps artifacts or an image metadata database in an emptyDir at /data.
    pub data_volume: bool,
    /// Only one pod may own /data at a time, so no surge on rollout.
    pub recreate: bool,
    pub termination_grace_seconds: i64,
    /// Posts events to notification-controller (every controller but notification-controller).
    pub sends_events: bool,
    pub memory_limit: &'static str,
}

/// Every controller, in Flux's install order.
pub const COMPONENTS: &[ComponentSpec] = &[
    ComponentSpec {
        name: "source-controller",
        ports: &[("http", 9090)],
        services: &[ServiceSpec {
            name: "source-controller",
            target_port: "http",
        }],
        data_volume: true,
        recreate: true,
        termination_grace_seconds: 10,
        sends_events: true,
        memory_limit: "512Mi",
    },
    ComponentSpec {
        name: "kustomize-controller",
        ports: &[],
        services: &[],
        data_volume: false,
        recreate: false,
        termination_grace_seconds: 60,
        sends_events: true,
        memory_limit: "512Mi",
    },
    ComponentSpec {
        name: "helm-controller",
        ports: &[],
        services: &[],
        data_volume: false,
        recreate: false,
        // Flux gives in-flight Helm actions up to --graceful-shutdown-timeout (600s).
        termination_grace_seconds: 600,
        sends_events: true,
        memory_limit: "512Mi",
    },
    ComponentSpec {
        name: "notification-controller",
        ports: &[("http", 9090), ("http-webhook", 9292)],
        services: &[
            ServiceSpec {
                name: "notification-controller",
                target_port: "http",
            },
            ServiceSpec {
                name: "webhook-receiver",
                target_port: "http-webhook",
            },
        ],
        data_volume: false,
        recreate: false,
        termination_grace_seconds: 10,
        sends_events: false,
        memory_limit: "256Mi",
    },
    ComponentSpec {
        name: "image-reflector-controller",
        ports: &[],
        services: &[],
        data_volume: true,
        recreate: true,
        termination_grace_seconds: 10,
        sends_events: true,
        memory_limit: "256Mi",
    },
    ComponentSpec {
        name: "image-automation-controller",
        ports: &[],
        services: &[],
        data_volume: false,
        recreate: false,
        termination_grace_seconds: 10,
        sends_events: true,
        memory_limit: "256Mi",
    },
];

/// `flux install`'s default `--components`.
pub const DEFAULT_COMPONENTS: &[&str] = &[
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
];

/// `flux install`'s `--components-extra` choices.
pub const EXTRA_COMPONENTS: &[&str] =
    &["image-reflector-controller", "image-automation-controller"];

/// The spec of a component by name.
pub fn find(name: &str) -> Result<&'static ComponentSpec, ManifestError> {
    COMPONENTS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| ManifestError::UnknownComponent {
            name: name.to_string(),
            valid: COMPONENTS
                .iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Validates names and returns their specs in install order, without duplicates.
pub fn select<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<&'static ComponentSpec>, ManifestError> {
    let mut wanted = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        wanted.push(find(name)?.name);
    }
    Ok(COMPONENTS
        .iter()
        .filter(|c| wanted.contains(&c.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_names_match_the_api_crate() {
        let ours: Vec<&str> = COMPONENTS.iter().map(|c| c.name).collect();
        assert_eq!(ours, flux_api::crds::COMPONENTS);
    }

    #[test]
    fn selection_is_deduplicated_and_in_install_order() {
        let picked = select([
            "helm-controller",
            "source-controller",
            "helm-controller",
            "",
        ])
        .unwrap();
        let names: Vec<&str> = picked.iter().map(|c| c.name).collect();
        assert_eq!(names, ["source-controller", "helm-controller"]);
    }

    #[test]
    fn unknown_component_lists_the_valid_names() {
        let err = select(["source-controller", "image-reflector"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"image-reflector\""), "{msg}");
        assert!(
            msg.contains("image-reflector-controller, image-automation-controller"),
            "{msg}"
        );
    }
}

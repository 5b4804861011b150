//! Discovery as kubectl and kube-rs read it: aggregated discovery (apidiscovery.k8s.io/v2) and
//! the OpenAPI documents.

use flux_apiserver::{ServerOptions, start};
use kube::api::{Api, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::{ApiResource, Discovery, Scope};
use serde_json::{Value, json};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

async fn get(client: &kube::Client, path: &str, accept: &str) -> Res<(String, Vec<u8>)> {
    let req = http::Request::get(path)
        .header(http::header::ACCEPT, accept)
        .body(Vec::new())?;
    let resp = client.send(req.map(kube::client::Body::from)).await?;
    let ctype = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.into_body().collect_bytes().await?;
    Ok((ctype, body.to_vec()))
}

#[tokio::test]
async fn aggregated_discovery_lists_every_resource_in_one_response() -> Res {
    let server = start(ServerOptions::default()).await?;
    let client = server.client().await?;

    let (ctype, body) = get(&client, "/apis", AGGREGATED).await?;
    assert_eq!(ctype, AGGREGATED);
    let doc: Value = serde_json::from_slice(&body)?;
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    let apps = doc["items"]
        .as_array()
        .and_then(|a| a.iter().find(|g| g["metadata"]["name"] == "apps"))
        .cloned()
        .unwrap_or_default();
    let deployments = apps["versions"][0]["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["resource"] == "deployments"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(deployments["responseKind"]["kind"], "Deployment");
    assert_eq!(deployments["scope"], "Namespaced");
    let subs: Vec<&str> = deployments["subresources"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["subresource"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        subs.contains(&"scale") && subs.contains(&"status"),
        "{subs:?}"
    );

    // Without the aggregated media type the plain lists are served, as before.
    let (ctype, body) = get(&client, "/api", "application/json").await?;
    assert_eq!(ctype, "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&body)?["kind"],
        "APIVersions"
    );

    // A CRD shows up at once, and kube-rs resolves kinds from the aggregated documents alone.
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))?;
    crds.create(&PostParams::default(), &crd).await?;
    let discovery = Discovery::new(client.clone()).run_aggregated().await?;
    let (gadget, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Gadget"))
        .ok_or("Gadget not discovered")?;
    assert_eq!(gadget.plural, "gadgets");
    assert_eq!(caps.scope, Scope::Cluster);
    let (cm, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
        .ok_or("ConfigMap not discovered")?;
    assert_eq!(cm.plural, "configmaps");
    assert_eq!(caps.scope, Scope::Namespaced);
    server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn openapi_documents_carry_built_in_kind_schemas_for_explain() -> Res {
    let server = start(ServerOptions::default()).await?;
    let client = server.client().await?;

    let (_, body) = get(&client, "/openapi/v3/apis/apps/v1", "application/json").await?;
    let v3: Value = serde_json::from_slice(&body)?;
    let deployment = &v3["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "version": "v1", "kind": "Deployment"}])
    );
    // References resolve inside the document (kubectl explain follows them).
    // As in kube-apiserver's v3 documents, a described reference is wrapped in allOf.
    let spec_ref = deployment["properties"]["spec"]["allOf"][0]["$ref"]
        .as_str()
        .unwrap_or_default();
    let spec_name = spec_ref.trim_start_matches("#/components/schemas/");
    assert!(
        v3["components"]["schemas"][spec_name]["properties"]["replicas"].is_object(),
        "{spec_ref}"
    );
    // kubectl keeps its compiled-in strategic merge metadata for built-in kinds.
    let patch = &v3["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert!(patch["requestBody"]["content"]["application/merge-patch+json"].is_object());
    assert!(patch["requestBody"]["content"]["application/strategic-merge-patch+json"].is_null());

    let (ctype, body) = get(&client, "/openapi/v2", "application/json").await?;
    assert_eq!(ctype, "application/json");
    let v2: Value = serde_json::from_slice(&body)?;
    assert_eq!(v2["swagger"], "2.0");
    let cm = &v2["definitions"]["io.k8s.api.core.v1.ConfigMap"];
    assert_eq!(
        cm["x-kubernetes-group-version-kind"],
        json!([{"group": "", "version": "v1", "kind": "ConfigMap"}])
    );
    let meta_ref = cm["properties"]["metadata"]["$ref"]
        .as_str()
        .unwrap_or_default();
    assert!(meta_ref.starts_with("#/definitions/"), "{meta_ref}");
    assert!(v2["definitions"][meta_ref.trim_start_matches("#/definitions/")].is_object());

    // kubectl asks for the protobuf form (gnostic's openapi.v2.Document): field 1 is "2.0".
    let proto = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    let (ctype, body) = get(&client, "/openapi/v2", proto).await?;
    // Answered with kube-apiserver's spelling, which Go's mime parser accepts.
    assert_eq!(
        ctype,
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    );
    assert_eq!(body.get(..5), Some(&b"\x0a\x032.0"[..]));
    let name = b"io.k8s.api.core.v1.ConfigMap";
    assert!(body.windows(name.len()).any(|w| w == name));
    // A media type the server cannot produce is refused.
    let (_, body) = get(&client, "/openapi/v2", "application/yaml").await?;
    assert_eq!(serde_json::from_slice::<Value>(&body)?["code"], 406);
    server.shutdown().await?;
    Ok(())
}

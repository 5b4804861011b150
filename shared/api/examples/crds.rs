//! Prints the CRDs of one component (or all) as YAML: `cargo run -p flux-api --example crds [component]`.

fn main() {
    let arg = std::env::args().nth(1);
    let crds = match arg.as_deref() {
        Some(c) => match flux_api::crds::for_component(c) {
            Some(crds) => crds,
            None => {
                eprintln!("unknown component {c}");
                std::process::exit(2);
            }
        },
        None => flux_api::crds::all(),
    };
    match flux_api::crds::to_yaml(&crds) {
        Ok(y) => print!("{y}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

//! placeholder
#[cfg(test)]
mod scratch {
    use k8s_openapi::api::core::v1::Pod;
    #[test]
    fn try_it() {
        let opts = serde_saphyr::options! { legacy_octal_numbers: true };
        let y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    resources:\n      limits:\n        cpu: 1\n        memory: 0.5\n  volumes:\n  - name: v\n    downwardAPI:\n      defaultMode: 0644\n      items: []\n";
        let p: Result<Pod, _> = serde_saphyr::from_str_with_options(y, opts.clone());
        println!("{:?}", p.map(|p| (p.spec.unwrap().containers[0].resources.clone(), )));
        let p: Result<Pod, _> = serde_saphyr::from_str_with_options(y, opts.clone());
        println!("{:?}", p.map(|p| p.spec.unwrap().volumes.unwrap()[0].downward_api.clone()));
        let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    env: 5\n";
        let e = serde_saphyr::from_str_with_options::<Pod>(bad, opts.clone()).unwrap_err();
        println!("DISPLAY[{e}]\nLOC {:?}", e.location());
        let bad2 = "apiVersion: v2\nkind: Pod\n";
        let e = serde_saphyr::from_str_with_options::<Pod>(bad2, opts.clone()).unwrap_err();
        println!("DISPLAY[{e}]");
        let multi = "kind: Pod\n---\nkind: Pod\n";
        let e = serde_saphyr::from_str_with_options::<Pod>(multi, opts.clone());
        println!("MULTI {:?}", e.map(|_| ()));
        let json = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"j\"}}";
        println!("JSON {:?}", serde_saphyr::from_str_with_options::<Pod>(json, opts.clone()).map(|p| p.metadata.name));
        let lead = "---\n{\n  apiVersion: \"v1\",\n  kind: \"Pod\",\n  metadata: {\n    name: \"k\",\n  },\n}\n";
        println!("LEAD {:?}", serde_saphyr::from_str_with_options::<Pod>(lead, opts.clone()).map(|p| p.metadata.name));
        let syn = "apiVersion: v1\nkind: Pod\nmetadata: [\n";
        let e = serde_saphyr::from_str_with_options::<Pod>(syn, opts.clone()).unwrap_err();
        println!("SYN[{e}]");
        println!("EMPTY {:?}", serde_saphyr::from_str_with_options::<Pod>("", opts.clone()).map(|_|()));
    }
}

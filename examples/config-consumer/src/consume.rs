// What config-consumer does, for both of its binaries (included after `store` names the
// wasi:config/store interface they import: rc.1 in main.rs, Spin's draft-2024-09-27 in
// bin/config-consumer-draft.rs).
fn main() {
    let keys: Vec<String> = std::env::args().skip(1).collect();
    if keys.is_empty() {
        match store::get_all() {
            Ok(pairs) => pairs.iter().for_each(|(k, v)| println!("{k}={v}")),
            Err(e) => fail(&e),
        }
        return;
    }
    for key in keys {
        match store::get(&key) {
            Ok(Some(v)) => println!("{key}={v}"),
            Ok(None) => println!("{key} is not set"),
            Err(e) => fail(&e),
        }
    }
}

fn fail(e: &store::Error) -> ! {
    eprintln!("config-consumer: wasi:config/store: {e:?}");
    std::process::exit(1);
}

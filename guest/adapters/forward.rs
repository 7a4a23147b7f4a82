// The body of both wasi:config/store version adapters (included by draft-from-rc1 and
// rc1-from-draft, whose `served` is the store interface they export and `provider` the one they
// import): every call is forwarded, and its error mapped case for case (`upstream`, `io`), so a
// consumer sees exactly what the provider said.

struct Adapter;

impl served::Guest for Adapter {
    fn get(key: String) -> Result<Option<String>, served::Error> {
        provider::get(&key).map_err(error)
    }

    fn get_all() -> Result<Vec<(String, String)>, served::Error> {
        provider::get_all().map_err(error)
    }
}

fn error(e: provider::Error) -> served::Error {
    match e {
        provider::Error::Upstream(message) => served::Error::Upstream(message),
        provider::Error::Io(message) => served::Error::Io(message),
    }
}

bindings::export!(Adapter with_types_in bindings);

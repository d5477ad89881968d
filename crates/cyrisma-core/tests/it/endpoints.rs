//! The request and response checks of every endpoint, derived from the one endpoint list
//! (`cyrisma_core::for_each_endpoint!`): nothing to add here for a new endpoint.
//!
//! Per endpoint `<resource>::<endpoint>`, two tests in the module `endpoints::<endpoint>`:
//! `request` snapshots the endpoint's `example()` (declared in its `metadata!` block) as
//! `it__<resource>__<endpoint>_request.snap`, and `responses` snapshots the typed outcome of every
//! fixture of `tests/fixtures/<resource>/<endpoint>/` as
//! `it__<resource>__<endpoint>_responses@<fixture>.snap`. An endpoint without fixtures fails
//! (the glob matches nothing), and so does one without a snapshot (under `CI=true`).
//! Other requests of an endpoint (a second constructor, a filter) are tested in
//! `tests/it/<resource>.rs`.

macro_rules! check_every_endpoint {
    ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
        $(
            mod $endpoint {
                use cyrisma_core::api::$resource::$endpoint;

                #[test]
                fn request() {
                    insta::with_settings!({ prepend_module_to_snapshot => false }, {
                        insta::assert_snapshot!(
                            concat!("it__", stringify!($resource), "__", stringify!($endpoint), "_request"),
                            crate::render_request(&$endpoint::example())
                        );
                    });
                }

                #[test]
                fn responses() {
                    insta::with_settings!({ prepend_module_to_snapshot => false }, {
                        insta::glob!(
                            "../fixtures",
                            concat!(stringify!($resource), "/", stringify!($endpoint), "/*"),
                            |path| {
                                insta::assert_snapshot!(
                                    concat!("it__", stringify!($resource), "__", stringify!($endpoint), "_responses"),
                                    crate::render_response::<$endpoint::Request>(path)
                                );
                            }
                        );
                    });
                }
            }
        )*
    };
}

cyrisma_core::for_each_endpoint!(check_every_endpoint);

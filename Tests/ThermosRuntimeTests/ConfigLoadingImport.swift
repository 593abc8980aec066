// The YAML/JSON file loader (`ConfigLoader`) moved out of the Foundation-free `ThermosConfig`
// into `ThermosConfigLoading`; re-exported here so every test file of this target sees it.
@_exported import ThermosConfigLoading

//! `cyrisma assets ...`: the scanned assets of one instance, and one asset's findings.

use std::net::IpAddr;

use anyhow::Context as _;
use cyrisma_core::types::AssetType;

use crate::args::{AssetTypeArg, AssetsCommand};
use crate::commands::Context;
use crate::exit::CliError;
use crate::output::rows::{AssetRow, FindingRow};

/// Runs an `assets` command.
pub(crate) async fn run(context: &Context, command: AssetsCommand) -> anyhow::Result<()> {
    let client = context.client()?;
    match command {
        AssetsCommand::List(args) => {
            let instance = client.instance(args.instance.instance.clone());
            let kinds: &[(AssetType, &'static str)] = match args.asset_type {
                Some(AssetTypeArg::Internal) => &[(AssetType::Internal, "internal")],
                Some(AssetTypeArg::External) => &[(AssetType::External, "external")],
                None => &[(AssetType::Internal, "internal"), (AssetType::External, "external")],
            };
            let mut rows = Vec::new();
            let mut objects = Vec::new();
            for (kind, label) in kinds {
                let assets = instance
                    .assets(kind.clone())
                    .await
                    .with_context(|| format!("cannot list the {label} assets of `{}`", args.instance.instance))?;
                rows.extend(assets.iter().map(|asset| AssetRow::from_core(label, asset)));
                objects.extend(assets);
            }
            if rows.is_empty() {
                context.ui.note("no assets");
            }
            context.out.api_rows(&objects, &rows)
        }
        AssetsCommand::Show(args) => {
            let instance = client.instance(args.instance.instance.clone());
            let asset = args.asset.trim();
            let assets = if asset.parse::<IpAddr>().is_ok() {
                instance.ip_asset(asset).await
            } else {
                instance.authenticated_asset(asset).await
            }
            .with_context(|| format!("cannot get asset `{asset}` of `{}`", args.instance.instance))?;
            if assets.is_empty() {
                return Err(CliError::error(format!("instance `{}` has no asset `{asset}`", args.instance.instance))
                    .with_hint(format!(
                        "list the assets with `cyrisma assets list --instance {}`",
                        args.instance.instance
                    ))
                    .into());
            }
            let rows: Vec<FindingRow> = assets.iter().flat_map(FindingRow::all_of).collect();
            if rows.is_empty() {
                context.ui.note("the asset has no findings");
            }
            context.out.api_document(&assets, &rows)
        }
    }
}

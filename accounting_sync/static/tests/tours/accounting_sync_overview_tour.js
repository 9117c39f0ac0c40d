import { registry } from "@web/core/registry";

/* Accounting Sync → Overview: a card per connection, each figure opening the list it
   counts (test_overview.py makes "Overview QBO books" with three failed items). */
const CARD = ".o_kanban_record:contains('Overview QBO books')";

registry.category("web_tour.tours").add("accounting_sync_overview_tour", {
    steps: () => {
        let failed = null;
        return [
            {
                content: "The overview: a card per connection, with its remote company",
                trigger: `${CARD}:contains('Overview QBO books remote') img[alt='QuickBooks Online']`,
            },
            {
                content: "The card shows its state, last run and books",
                trigger: `${CARD}:has(.o_field_widget[name='state']:contains('Connected')):has(button[name='action_open_last_run']):has(button[name='action_open_reconciliation_differences']:contains('2 differences'))`,
            },
            {
                content: "The card shows three failed items: open them",
                trigger: `${CARD} button[name='action_open_failed_items']:contains('Failed items'):contains('3')`,
                async run(helpers) {
                    failed = parseInt(
                        this.anchor.querySelector(".o_accounting_sync_count")
                            .textContent,
                        10
                    );
                    await helpers.click();
                },
            },
            {
                content: "The failed items of that connection, one row each, not grouped",
                trigger: ".o_list_view:not(:has(.o_group_header)) .o_data_row:contains('Overview partner')",
                run() {
                    const rows = document.querySelectorAll(".o_list_view .o_data_row");
                    if (failed !== 3 || rows.length !== failed) {
                        throw new Error(
                            `The card said ${failed} failed items, the list shows ${rows.length}`
                        );
                    }
                },
            },
            {
                content: "Filtered on failed items",
                trigger: ".o_searchview .o_facet_values:contains('Failed')",
            },
            {
                content: "Back to the overview",
                trigger: ".o_breadcrumb .breadcrumb-item a:contains('Overview')",
                run: "click",
            },
            {
                content: "Records synced per day by connection",
                trigger: ".o_control_panel button[name='action_open_runs_graph']",
                run: "click",
            },
            {
                content: "The graph of the runs",
                trigger: ".o_graph_view .o_graph_renderer",
            },
        ];
    },
});

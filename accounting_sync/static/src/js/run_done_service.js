/** @odoo-module **/
/* When a sync the user started ends (accounting_sync_run_done, sent by the run), the
   connection's screens they are looking at refresh: its counts, state and runs. */
import { registry } from "@web/core/registry";

const MODELS = ["accounting.sync.connection", "accounting.sync.binding", "accounting.sync.run"];

export const accountingSyncRunDoneService = {
    dependencies: ["bus_service", "action"],
    start(env, { bus_service, action }) {
        bus_service.subscribe("accounting_sync_run_done", () => {
            const controller = action.currentController;
            const resModel = controller?.props?.resModel;
            if (MODELS.includes(resModel) && !document.querySelector(".modal")) {
                action.doAction({ type: "ir.actions.client", tag: "soft_reload" });
            }
        });
        bus_service.start();
    },
};

registry.category("services").add("accounting_sync_run_done", accountingSyncRunDoneService);

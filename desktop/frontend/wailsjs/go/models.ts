export namespace admin {
	
	export class AuditResult {
	    entries: backend.AuditEntry[];
	    problem?: backend.Problem;
	
	    static createFrom(source: any = {}) {
	        return new AuditResult(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.entries = this.convertValues(source["entries"], backend.AuditEntry);
	        this.problem = this.convertValues(source["problem"], backend.Problem);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class ConfigResult {
	    config?: backend.TradingConfig;
	    etag: string;
	    problem?: backend.Problem;
	
	    static createFrom(source: any = {}) {
	        return new ConfigResult(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.config = this.convertValues(source["config"], backend.TradingConfig);
	        this.etag = source["etag"];
	        this.problem = this.convertValues(source["problem"], backend.Problem);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Probe {
	    ok: boolean;
	    status_code: number;
	    body: string;
	    problem?: backend.Problem;
	
	    static createFrom(source: any = {}) {
	        return new Probe(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.ok = source["ok"];
	        this.status_code = source["status_code"];
	        this.body = source["body"];
	        this.problem = this.convertValues(source["problem"], backend.Problem);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Overview {
	    backend_url: string;
	    health: Probe;
	    ready: Probe;
	    backend_version?: backend.VersionInfo;
	    version_problem?: backend.Problem;
	    status?: backend.Status;
	    status_problem?: backend.Problem;
	    checked_at: string;
	
	    static createFrom(source: any = {}) {
	        return new Overview(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.backend_url = source["backend_url"];
	        this.health = this.convertValues(source["health"], Probe);
	        this.ready = this.convertValues(source["ready"], Probe);
	        this.backend_version = this.convertValues(source["backend_version"], backend.VersionInfo);
	        this.version_problem = this.convertValues(source["version_problem"], backend.Problem);
	        this.status = this.convertValues(source["status"], backend.Status);
	        this.status_problem = this.convertValues(source["status_problem"], backend.Problem);
	        this.checked_at = source["checked_at"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class Settings {
	    app_version: string;
	    app_commit: string;
	    backend_url: string;
	    token_set: boolean;
	    refresh_seconds: number;
	    config_path: string;
	    config_origin: string;
	    config_found: boolean;
	    config_parsed: boolean;
	    config_error: string;
	    warnings: string[];
	    searched: string[];
	    notice: string;
	
	    static createFrom(source: any = {}) {
	        return new Settings(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.app_version = source["app_version"];
	        this.app_commit = source["app_commit"];
	        this.backend_url = source["backend_url"];
	        this.token_set = source["token_set"];
	        this.refresh_seconds = source["refresh_seconds"];
	        this.config_path = source["config_path"];
	        this.config_origin = source["config_origin"];
	        this.config_found = source["config_found"];
	        this.config_parsed = source["config_parsed"];
	        this.config_error = source["config_error"];
	        this.warnings = source["warnings"];
	        this.searched = source["searched"];
	        this.notice = source["notice"];
	    }
	}

}

export namespace backend {
	
	export class AuditEntry {
	    time: string;
	    actor: string;
	    action: string;
	    summary: string;
	    etag?: string;
	
	    static createFrom(source: any = {}) {
	        return new AuditEntry(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.time = source["time"];
	        this.actor = source["actor"];
	        this.action = source["action"];
	        this.summary = source["summary"];
	        this.etag = source["etag"];
	    }
	}
	export class StrategyStatus {
	    name: string;
	    status: string;
	    position: number;
	    pnl: number;
	    last_tick: string;
	
	    static createFrom(source: any = {}) {
	        return new StrategyStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.status = source["status"];
	        this.position = source["position"];
	        this.pnl = source["pnl"];
	        this.last_tick = source["last_tick"];
	    }
	}
	export class Heartbeat {
	    instance: string;
	    strategies: StrategyStatus[];
	
	    static createFrom(source: any = {}) {
	        return new Heartbeat(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.instance = source["instance"];
	        this.strategies = this.convertValues(source["strategies"], StrategyStatus);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Problem {
	    kind: string;
	    message: string;
	    field?: string;
	    status?: number;
	    detail?: string;
	
	    static createFrom(source: any = {}) {
	        return new Problem(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.kind = source["kind"];
	        this.message = source["message"];
	        this.field = source["field"];
	        this.status = source["status"];
	        this.detail = source["detail"];
	    }
	}
	export class RiskLimits {
	    max_position: number;
	    max_order_value: number;
	    max_daily_loss: number;
	
	    static createFrom(source: any = {}) {
	        return new RiskLimits(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.max_position = source["max_position"];
	        this.max_order_value = source["max_order_value"];
	        this.max_daily_loss = source["max_daily_loss"];
	    }
	}
	export class Status {
	    received: boolean;
	    fresh: boolean;
	    received_at: string;
	    age_seconds?: number;
	    fresh_within_seconds: number;
	    heartbeat?: Heartbeat;
	
	    static createFrom(source: any = {}) {
	        return new Status(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.received = source["received"];
	        this.fresh = source["fresh"];
	        this.received_at = source["received_at"];
	        this.age_seconds = source["age_seconds"];
	        this.fresh_within_seconds = source["fresh_within_seconds"];
	        this.heartbeat = this.convertValues(source["heartbeat"], Heartbeat);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Strategy {
	    name: string;
	    symbol: string;
	    enabled: boolean;
	    parameters: {[key: string]: number};
	
	    static createFrom(source: any = {}) {
	        return new Strategy(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.symbol = source["symbol"];
	        this.enabled = source["enabled"];
	        this.parameters = source["parameters"];
	    }
	}
	
	export class TradingConfig {
	    strategies: Strategy[];
	    risk_limits: RiskLimits;
	
	    static createFrom(source: any = {}) {
	        return new TradingConfig(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.strategies = this.convertValues(source["strategies"], Strategy);
	        this.risk_limits = this.convertValues(source["risk_limits"], RiskLimits);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class VersionInfo {
	    version: string;
	    commit: string;
	
	    static createFrom(source: any = {}) {
	        return new VersionInfo(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.version = source["version"];
	        this.commit = source["commit"];
	    }
	}

}


export namespace main {
	
	export class UpdateStatus {
	    current: string;
	    available: boolean;
	    version: string;
	    notes: string;
	    reason: string;
	    problem: string;
	    undone: string;
	    installing: boolean;
	
	    static createFrom(source: any = {}) {
	        return new UpdateStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.current = source["current"];
	        this.available = source["available"];
	        this.version = source["version"];
	        this.notes = source["notes"];
	        this.reason = source["reason"];
	        this.problem = source["problem"];
	        this.undone = source["undone"];
	        this.installing = source["installing"];
	    }
	}

}

//! HTTP/RPC request handlers (axum, actix-web, tonic, hyper): where a task started per
//! request outlives the request.

use quote::ToTokens;
use syn::{Expr, FnArg, ReturnType, Type};

/// What a fn's signature says about being a request handler.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HandlerShape {
    /// Not a handler.
    #[default]
    No,
    /// A handler by its signature or attributes.
    Handler,
    /// An async fn that is a handler if a router names it (`.route("/", get(f))`).
    IfRouted,
}

/// axum extractors that only a handler takes (by value).
const EXTRACTORS: &[&str] = &["State", "Json", "Path", "Query", "Extension", "Form", "HeaderMap", "WebSocketUpgrade"];
/// actix-web route attributes.
const ACTIX_ATTRS: &[&str] = &["get", "post", "put", "delete", "patch", "head", "options", "trace", "route"];
/// Types in a return type that make it a response.
const RESPONSES: &[&str] =
    &["IntoResponse", "Json", "Response", "Html", "StatusCode", "Redirect", "Responder", "HttpResponse"];
/// Method routers of axum and actix-web (`get(f)`, `web::get().to(f)`).
const METHOD_ROUTERS: &[&str] = &["get", "post", "put", "delete", "patch", "head", "options", "trace", "any", "on"];

fn last_ident(ty: &Type) -> Option<(String, &syn::PathSegment)> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| (s.ident.to_string(), s)),
        _ => None,
    }
}

/// `web::Data<..>`, `web::Json<..>`, `HttpRequest`: actix-web extractors.
fn is_actix_param(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [.., w, last] if w == "web" => matches!(last.as_str(), "Data" | "Json" | "Path" | "Query" | "Form"),
        [.., last] => last == "HttpRequest",
        _ => false,
    }
}

fn mentions_response(ret: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = ret else { return false };
    if last_ident(ty).is_some_and(|(n, _)| n == "Result") {
        return true;
    }
    super::idents::mentions(ty.to_token_stream(), RESPONSES)
}

/// tonic: `Request<T>` in, `Result<Response<..>, Status>` out.
fn is_tonic_method(sig: &syn::Signature) -> bool {
    let takes_request = sig.inputs.iter().any(|a| {
        matches!(a, FnArg::Typed(t) if last_ident(&t.ty).is_some_and(|(n, s)| n == "Request" && !s.arguments.is_none()))
    });
    let ReturnType::Type(_, ty) = &sig.output else { return false };
    let Some((name, seg)) = last_ident(ty) else { return false };
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else { return false };
    let tys: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    takes_request
        && name == "Result"
        && tys.len() == 2
        && last_ident(tys[0]).is_some_and(|(n, _)| n == "Response")
        && last_ident(tys[1]).is_some_and(|(n, _)| n == "Status")
}

/// What a fn's attributes and signature say. A fn that merely takes a `Request` (an
/// HTTP client helper) is not a handler.
pub fn handler_shape(attrs: &[syn::Attribute], sig: &syn::Signature, in_impl: bool) -> HandlerShape {
    let attr_route = attrs.iter().any(|a| {
        let segs: Vec<String> = a.path().segments.iter().map(|s| s.ident.to_string()).collect();
        match segs.as_slice() {
            [one] => ACTIX_ATTRS.contains(&one.as_str()),
            [krate, one] => krate.starts_with("actix") && ACTIX_ATTRS.contains(&one.as_str()),
            _ => false,
        }
    });
    if attr_route {
        return HandlerShape::Handler;
    }
    if sig.asyncness.is_none() {
        return HandlerShape::No;
    }
    let typed = || {
        sig.inputs.iter().filter_map(|a| match a {
            FnArg::Typed(t) => Some(&*t.ty),
            FnArg::Receiver(_) => None,
        })
    };
    let axum = typed().any(|t| last_ident(t).is_some_and(|(n, _)| EXTRACTORS.contains(&n.as_str())));
    if axum && mentions_response(&sig.output) || typed().any(is_actix_param) || in_impl && is_tonic_method(sig) {
        return HandlerShape::Handler;
    }
    if in_impl {
        HandlerShape::No
    } else {
        HandlerShape::IfRouted
    }
}

/// The fns a router call names: `.route("/x", get(a).post(b))`, `web::get().to(c)`.
pub fn routed_fns(method: &str, args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>) -> Vec<String> {
    let mut out = Vec::new();
    match method {
        "route" if args.len() == 2 => collect_method_routers(&args[1], &mut out),
        "to" if args.len() == 1 => push_fn_name(&args[0], &mut out),
        _ => {}
    }
    out
}

fn push_fn_name(e: &Expr, out: &mut Vec<String>) {
    if let Expr::Path(p) = e {
        if let Some(last) = p.path.segments.last() {
            out.push(last.ident.to_string());
        }
    }
}

fn collect_method_routers(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Call(c) => {
            let is_router = matches!(&*c.func, Expr::Path(p)
                if p.path.segments.last().is_some_and(|s| METHOD_ROUTERS.contains(&s.ident.to_string().as_str())));
            if is_router {
                if let Some(f) = c.args.last() {
                    push_fn_name(f, out);
                }
            }
        }
        Expr::MethodCall(m) => {
            if METHOD_ROUTERS.contains(&m.method.to_string().as_str()) || m.method == "to" {
                if let Some(f) = m.args.last() {
                    push_fn_name(f, out);
                }
            }
            collect_method_routers(&m.receiver, out);
        }
        _ => {}
    }
}

/// Whether spawned work is bounded by a timeout, or is an upgraded connection that must
/// outlive the request (`hyper::upgrade::on`).
pub fn is_bounded_work(work: &Expr) -> bool {
    fn scan(ts: proc_macro2::TokenStream, prev: &mut String) -> bool {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    let s = i.to_string();
                    if matches!(s.as_str(), "timeout" | "timeout_at" | "OnUpgrade" | "on_upgrade")
                        || s == "on" && prev == "upgrade"
                    {
                        return true;
                    }
                    *prev = s;
                }
                proc_macro2::TokenTree::Group(g) => {
                    if scan(g.stream(), prev) {
                        return true;
                    }
                }
                proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {}
            }
        }
        false
    }
    scan(work.to_token_stream(), &mut String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(src: &str, in_impl: bool) -> HandlerShape {
        let f: syn::ItemFn = syn::parse_str(src).unwrap();
        handler_shape(&f.attrs, &f.sig, in_impl)
    }

    #[test]
    fn handler_signatures() {
        use HandlerShape::*;
        assert_eq!(
            shape("async fn a(State(s): State<App>, Json(b): Json<Req>) -> impl IntoResponse {}", false),
            Handler
        );
        assert_eq!(shape("#[post(\"/upload\")] async fn up(body: Bytes) -> HttpResponse {}", false), Handler);
        assert_eq!(shape("async fn up(data: web::Data<App>) -> HttpResponse {}", false), Handler);
        assert_eq!(
            shape("async fn say(&self, r: Request<Hello>) -> Result<Response<Reply>, Status> {}", true),
            Handler
        );
        // A client helper taking a `Request` is not a handler.
        assert_eq!(shape("async fn fetch(req: Request<Body>) -> Result<Response<Body>> {}", true), No);
        assert_eq!(shape("async fn fetch(req: Request<Body>) -> Result<Response<Body>> {}", false), IfRouted);
        assert_eq!(shape("fn path_of(p: &Path) -> Result<()> {}", false), No);
        assert_eq!(shape("async fn load(p: &Path) -> Result<()> {}", false), IfRouted);
    }

    #[test]
    fn routes_and_bounds() {
        let m: syn::ExprMethodCall = syn::parse_str("r.route(\"/\", get(handlers::list).post(create))").unwrap();
        assert_eq!(routed_fns("route", &m.args), ["create", "list"]);
        let m: syn::ExprMethodCall = syn::parse_str("web::get().to(index)").unwrap();
        assert_eq!(routed_fns("to", &m.args), ["index"]);
        assert!(is_bounded_work(&syn::parse_str("async move { tokio::time::timeout(d, f).await }").unwrap()));
        assert!(is_bounded_work(&syn::parse_str("async move { let u = hyper::upgrade::on(req).await; }").unwrap()));
        assert!(!is_bounded_work(&syn::parse_str("async move { audit(ev).await }").unwrap()));
    }
}
